// The outcome of one request/response exchange with a client: what the session logs and
// whether the connection can carry another request.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "proxy/stats.hpp"

namespace cacheproxy {

struct Exchange {
  bool keep_alive = false;
  ResultCode code = ResultCode::none;
  unsigned status = 0;      // sent to the client; 0 if nothing was sent
  std::uint64_t bytes = 0;  // written to the client, header included
  bool direct = false;      // an origin was contacted (HIER_DIRECT)
  std::string peer;         // the origin address contacted
  // The response's media type (Content-Type without parameters), for the access log. A
  // memory hit shares the cached object's copy, so logging it allocates nothing.
  std::shared_ptr<const std::string> mime;

  void set_mime(std::string value) {
    mime = value.empty() ? nullptr : std::make_shared<const std::string>(std::move(value));
  }
  std::string_view mime_text() const { return mime ? std::string_view(*mime) : std::string_view(); }
};

}  // namespace cacheproxy
