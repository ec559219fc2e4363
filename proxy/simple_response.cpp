#include "proxy/simple_response.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "cache/header_fields.hpp"
#include "proxy/request_target.hpp"

namespace cacheproxy {

namespace http = boost::beast::http;

SimpleResponse make_error(http::status status, std::string_view detail) {
  SimpleResponse r;
  r.status = status;
  r.body = fmt::format("cacheproxy: {} {}\n{}\n", static_cast<unsigned>(status),
                       http::obsolete_reason(status), detail);
  return r;
}

boost::asio::awaitable<Exchange> send_simple(boost::beast::tcp_stream& client, unsigned version,
                                             bool keep_alive, const SimpleResponse& response,
                                             std::string_view visible_hostname,
                                             std::chrono::milliseconds write_timeout) {
  http::response<http::string_body, Fields> res{response.status, version};
  res.set(http::field::server, "cacheproxy");
  res.set(http::field::content_type, response.content_type);
  res.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : response.extra_fields) res.insert(name, value);
  append_via(res, version, visible_hostname);
  res.body() = response.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();

  Exchange ex;
  ex.status = static_cast<unsigned>(response.status);
  ex.set_mime(response.content_type.substr(0, response.content_type.find(';')));
  client.expires_after(write_timeout);
  auto [ec, n] =
      co_await http::async_write(client, res, boost::asio::as_tuple(boost::asio::use_awaitable));
  ex.bytes = n;
  ex.keep_alive = keep_alive && !ec;
  co_return ex;
}

}  // namespace cacheproxy
