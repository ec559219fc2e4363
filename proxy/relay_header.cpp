#include "proxy/relay_header.hpp"

#include <boost/beast/http/status.hpp>
#include <charconv>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"
#include "cache/hop_by_hop.hpp"
#include "proxy/request_target.hpp"
#include "proxy/wire_format.hpp"

namespace cacheproxy {

namespace http = boost::beast::http;
using wire::append;
using wire::append_field;
using wire::append_number;

void append_relay_header(fmt::memory_buffer& out, const Fields& origin,
                         const RelayHeader& header) {
  wire::append_version(out, header.version);
  out.push_back(' ');
  append_number(out, header.status);
  out.push_back(' ');
  const auto status = static_cast<http::status>(header.status);
  append(out, header.reason.empty() ? std::string_view(http::obsolete_reason(status))
                                    : header.reason);
  append(out, "\r\n");

  const cache::ConnectionOptions connection_options(origin);
  const bool replaced_length = header.framing != RelayFraming::as_received;
  const bool replaced_range = !header.content_range.empty();
  bool has_date = false;
  auto last_via = origin.end();
  for (auto it = origin.begin(); it != origin.end(); ++it) {
    if (it->name() == http::field::via) last_via = it;
    if (it->name() == http::field::date) has_date = true;
  }
  // Date goes where Beast's set() put it, after the origin's fields; Via after the last Via
  // (a second Via line extends the list, RFC 9110 §5.3), else after Date.
  auto append_via_line = [&] {
    append(out, "Via: ");
    append_via_value(out, header.version, header.visible_hostname);
    append(out, "\r\n");
  };
  for (auto it = origin.begin(); it != origin.end(); ++it) {
    const http::field name = it->name();
    const bool dropped =
        cache::is_fixed_hop_by_hop(name) ||
        (replaced_length && name == http::field::content_length) ||
        (replaced_range && name == http::field::content_range) ||
        connection_options.names(it->name_string());
    if (!dropped) append_field(out, it->name_string(), it->value());
    if (it == last_via) append_via_line();
  }
  if (!has_date) append_field(out, "Date", cache::format_http_date(header.response_time));
  if (last_via == origin.end()) append_via_line();
  if (replaced_range) append_field(out, "Content-Range", header.content_range);
  switch (header.framing) {
    case RelayFraming::length:
      append(out, "Content-Length: ");
      append_number(out, header.content_length);
      append(out, "\r\n");
      break;
    case RelayFraming::chunked:
      append(out, "Transfer-Encoding: chunked\r\n");
      break;
    case RelayFraming::as_received:
    case RelayFraming::close_delimited:
      break;
  }
  if (header.version >= 11 && !header.keep_alive) append(out, "Connection: close\r\n");
  if (header.version < 11 && header.keep_alive) append(out, "Connection: keep-alive\r\n");
  append(out, "\r\n");
}

void append_request_header(fmt::memory_buffer& out, const http::request_header<Fields>& request) {
  append(out, request.method_string());
  out.push_back(' ');
  append(out, request.target());
  out.push_back(' ');
  wire::append_version(out, request.version());
  append(out, "\r\n");
  for (const auto& field : request) append_field(out, field.name_string(), field.value());
  append(out, "\r\n");
}

std::string_view relay_chunk_prefix(std::uint64_t size, char (&storage)[20]) {
  auto [end, ec] = std::to_chars(storage, storage + 16, size, 16);
  (void)ec;  // 16 hex digits hold any 64-bit size
  *end++ = '\r';
  *end++ = '\n';
  return std::string_view(storage, static_cast<std::size_t>(end - storage));
}

}  // namespace cacheproxy
