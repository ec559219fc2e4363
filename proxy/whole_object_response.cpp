#include "proxy/whole_object_response.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http/status.hpp>

#include "proxy/eager_write.hpp"
#include "proxy/exchange_helpers.hpp"
#include "proxy/request_target.hpp"
#include "proxy/wire_format.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using wire::append;
using wire::append_number;
using wire::append_version;

namespace {

// The status line, up to the object's fields.
void append_status_line(fmt::memory_buffer& out, const cache::CachedObject& object,
                        unsigned version) {
  append_version(out, version);
  out.push_back(' ');
  const unsigned status = object.meta.status;
  out.push_back(static_cast<char>('0' + status / 100 % 10));
  out.push_back(static_cast<char>('0' + status / 10 % 10));
  out.push_back(static_cast<char>('0' + status % 10));
  out.push_back(' ');
  append(out, http::obsolete_reason(static_cast<http::status>(status)));
  append(out, "\r\n");
}

// What follows the object's fields: this proxy's Via (right after any stored Via lines, which
// wire_fields keeps last), Age, framing, connection handling, the blank line. Connection as
// Beast's keep_alive() writes it: HTTP/1.1 says close, HTTP/1.0 says keep-alive.
void append_response_fields(fmt::memory_buffer& out, const cache::CachedObject& object,
                            const WholeObjectResponse& response) {
  append(out, "Via: ");
  append_via_value(out, response.version, response.visible_hostname);
  append(out, "\r\nAge: ");
  append_number(out, static_cast<std::uint64_t>(std::max<cache::Seconds::rep>(0, response.age.count())));
  append(out, "\r\nContent-Length: ");
  append_number(out, object.body.size());
  append(out, "\r\n");
  if (response.version >= 11 && !response.keep_alive) append(out, "Connection: close\r\n");
  if (response.version < 11 && response.keep_alive) append(out, "Connection: keep-alive\r\n");
  append(out, "\r\n");
}

// The socket's send buffer is full (a large body, or a client slow to read): what it did not
// take at once goes when there is room. A coroutine of its own, so that the frame of
// write_whole_object, on every memory hit, stays small enough for Asio to recycle.
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_rest(
    asio::ip::tcp::socket& client, std::array<asio::const_buffer, 4> pieces, std::size_t sent) {
  boost::beast::buffers_suffix<std::array<asio::const_buffer, 4>> rest(pieces);
  rest.consume(sent);
  auto [ec, more] = co_await asio::async_write(client, rest, exchange::use_tuple);
  co_return std::tuple{ec, sent + more};
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
    asio::ip::tcp::socket& client, const cache::CachedObject& object,
    WholeObjectResponse response) {
  // The status line, then the fields that follow the object's, in one buffer whose inline
  // storage they fit: no allocation per hit, and one buffer keeps this coroutine's frame small
  // enough for Asio to recycle.
  fmt::memory_buffer header;
  append_status_line(header, object, response.version);
  const std::size_t status_size = header.size();
  append_response_fields(header, object, response);
  const std::size_t body_size = response.head_only ? 0 : object.body.size();
  std::array<asio::const_buffer, 4> pieces{
      asio::buffer(header.data(), status_size),
      asio::buffer(object.wire_fields),
      asio::buffer(header.data() + status_size, header.size() - status_size),
      asio::buffer(object.body.data(), body_size),
  };
  const std::size_t size = asio::buffer_size(pieces);
  boost::system::error_code ec;
  const std::size_t sent = write_now(client, pieces, ec);
  if (ec || sent == size) co_return std::tuple{ec, sent};
  co_return co_await write_rest(client, pieces, sent);
}

}  // namespace cacheproxy
