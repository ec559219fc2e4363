#include "proxy/whole_object_response.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/status.hpp>

#include "proxy/request_target.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// The status line, up to the object's fields.
void append_status_line(fmt::memory_buffer& out, const cache::CachedObject& object,
                        unsigned version) {
  std::string_view reason = http::obsolete_reason(static_cast<http::status>(object.meta.status));
  fmt::format_to(std::back_inserter(out), "HTTP/{}.{} {:03} {}\r\n", version / 10, version % 10,
                 object.meta.status, reason);
}

// What follows the object's fields: this proxy's Via (right after any stored Via lines, which
// wire_fields keeps last), Age, framing, connection handling, the blank line. Connection as
// Beast's keep_alive() writes it: HTTP/1.1 says close, HTTP/1.0 says keep-alive.
void append_response_fields(fmt::memory_buffer& out, const cache::CachedObject& object,
                            const WholeObjectResponse& response) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "Via: ");
  append_via_value(out, response.version, response.visible_hostname);
  fmt::format_to(it, "\r\nAge: {}\r\nContent-Length: {}\r\n", response.age.count(),
                 object.body.size());
  if (response.version >= 11 && !response.keep_alive) fmt::format_to(it, "Connection: close\r\n");
  if (response.version < 11 && response.keep_alive) fmt::format_to(it, "Connection: keep-alive\r\n");
  fmt::format_to(it, "\r\n");
}

}  // namespace

std::string whole_object_header(const cache::CachedObject& object,
                                const WholeObjectResponse& response) {
  fmt::memory_buffer status;
  append_status_line(status, object, response.version);
  fmt::memory_buffer tail;
  append_response_fields(tail, object, response);
  return fmt::to_string(status) + object.wire_fields + fmt::to_string(tail);
}

asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_whole_object(
    boost::beast::tcp_stream& client, const cache::CachedObject& object,
    WholeObjectResponse response) {
  // Both pieces fit the buffers' inline storage: no allocation per hit.
  fmt::memory_buffer status;
  append_status_line(status, object, response.version);
  fmt::memory_buffer tail;
  append_response_fields(tail, object, response);
  const std::size_t body_size = response.head_only ? 0 : object.body.size();
  std::array<asio::const_buffer, 4> pieces{
      asio::buffer(status.data(), status.size()),
      asio::buffer(object.wire_fields),
      asio::buffer(tail.data(), tail.size()),
      asio::buffer(object.body.data(), body_size),
  };
  co_return co_await asio::async_write(client, pieces, asio::as_tuple(asio::use_awaitable));
}

}  // namespace cacheproxy
