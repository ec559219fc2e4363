// A real HTTP origin server for integration tests: listens on 127.0.0.1 on a free port,
// answers each request through a handler the test supplies, and records what it received.
// Runs on its own thread; special behaviours (delay, cut-off body, generated huge bodies)
// are part of the response description.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cache/header_fields.hpp"

namespace cacheproxy::testing {

struct OriginRequest {
  std::string method;
  std::string target;
  cacheproxy::Fields headers;
  std::string body;
};

struct OriginResponse {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  // To a HEAD request the body is not sent, but Content-Length still announces its size, as
  // an origin answers HEAD with the GET response's fields (RFC 9110 §9.3.2): describe a HEAD
  // answer with the GET representation's body.
  std::string body;
  bool chunked = false;                  // send the body chunked instead of Content-Length
  std::chrono::milliseconds delay{0};    // wait before sending the header
  std::optional<std::size_t> cut_after;  // close after this many body bytes (length announced)
  std::uint64_t generated_bytes = 0;     // if set, a body of this size made on the fly
  bool close = false;                    // close the connection after the response
  // Close it after the response without saying so, as an origin's keep-alive timeout does.
  bool close_unannounced = false;
  std::string interim;                   // raw interim responses (e.g. a 103) sent first
};

class OriginServer {
 public:
  using Handler = std::function<OriginResponse(const OriginRequest&)>;

  // Listens on `port`, or on a free port when 0. A fixed port lets a test stop the origin
  // (destroy it: connections are closed, new ones refused) and start it again at the same URL.
  explicit OriginServer(Handler handler, std::uint16_t port = 0);
  ~OriginServer();
  OriginServer(const OriginServer&) = delete;
  OriginServer& operator=(const OriginServer&) = delete;

  std::uint16_t port() const;
  // "http://127.0.0.1:PORT" + path
  std::string url(const std::string& path) const;

  std::size_t request_count() const;
  std::size_t request_count(const std::string& target) const;
  std::size_t connection_count() const;       // accepted in total
  std::size_t open_connection_count() const;  // not yet closed by either side
  std::vector<OriginRequest> requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A response with a body and the given extra header fields.
OriginResponse make_response(unsigned status, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace cacheproxy::testing
