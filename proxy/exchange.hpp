// The outcome of one request/response exchange with a client: what the session logs and
// whether the connection can carry another request.
#pragma once

#include <cstdint>
#include <string>

#include "proxy/stats.hpp"

namespace cacheproxy {

struct Exchange {
  bool keep_alive = false;
  ResultCode code = ResultCode::none;
  unsigned status = 0;      // sent to the client; 0 if nothing was sent
  std::uint64_t bytes = 0;  // written to the client, header included
  bool direct = false;      // an origin was contacted (HIER_DIRECT)
  std::string peer;         // the origin address contacted
  std::string mime;
};

}  // namespace cacheproxy
