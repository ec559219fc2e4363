// Small helpers shared by the parts of one forwarded exchange (forwarder.cpp, origin_fetch.cpp,
// cache_serve.cpp): relay sizes, header copying, framing questions. Internal to proxy/.
#pragma once

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "cache/header_fields.hpp"
#include "cache/hop_by_hop.hpp"
#include "proxy/request_target.hpp"

namespace cacheproxy::exchange {

// Awaited socket operations complete as (error_code, ...) tuples. Deferred, not use_awaitable:
// an awaitable co_awaits a deferred operation directly, where use_awaitable would allocate a
// coroutine frame to start each operation (one per read and write, on every request).
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::deferred);

// Bytes moved per read/write while relaying a body: bounds memory per exchange.
inline constexpr std::size_t kRelayBufferBytes = 64 * 1024;
// Bodies up to this size are read together with their metadata in the lookup call.
inline constexpr std::size_t kStoreReadBytes = 256 * 1024;
// Body bytes read from the store per step when streaming a larger disk hit: bounds memory per
// hit, and bodies up to this size are read through a single snapshot.
inline constexpr std::size_t kStoreStreamBytes = 4 * 1024 * 1024;

inline bool is_unsafe(boost::beast::http::verb method) {
  namespace http = boost::beast::http;
  // RFC 9110 §9.2.1: safe methods never change the resource; the rest invalidate (§4.4 9111).
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
      return false;
    default:
      return true;
  }
}

// RFC 9110 §6.4.1: responses to HEAD, and 1xx, 204 and 304 responses, never carry content.
inline bool has_no_content(boost::beast::http::verb method, unsigned status) {
  return method == boost::beast::http::verb::head || status / 100 == 1 || status == 204 ||
         status == 304;
}

// The Host field for the origin (RFC 9110 §7.2): an IPv6 address in brackets, the port unless
// it is http's default. On every miss: appended, not formatted.
inline std::string host_field(const RequestTarget& t) {
  const bool v6 = t.host.find(':') != std::string::npos;
  std::string out;
  if (v6) out += '[';
  out += t.host;
  if (v6) out += ']';
  if (t.port != 80) {
    out += ':';
    out += std::to_string(t.port);
  }
  return out;
}

inline void copy_end_to_end_fields(const Fields& from,
                                   Fields& to) {
  for (const auto& field : from) to.insert(field.name_string(), field.value());
  cache::remove_hop_by_hop(to);
}

// RFC 9110 §9.2.2: the methods a proxy may send again when a connection fails before the
// response (it MUST NOT retry the others on its own).
inline bool idempotent(boost::beast::http::verb method) {
  namespace http = boost::beast::http;
  return method == http::verb::get || method == http::verb::head ||
         method == http::verb::options || method == http::verb::trace ||
         method == http::verb::put || method == http::verb::delete_;
}

inline bool transient_connection_error(const boost::system::error_code& ec) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message;
}

}  // namespace cacheproxy::exchange
