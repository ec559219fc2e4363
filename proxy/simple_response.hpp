// Small complete responses made by the proxy itself: errors and local pages.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/status.hpp>
#include <string>
#include <string_view>

#include "proxy/exchange.hpp"

namespace cacheproxy {

struct SimpleResponse {
  boost::beast::http::status status = boost::beast::http::status::ok;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> extra_fields;
};

// An error page naming what went wrong, e.g. make_error(bad_gateway, "cannot resolve x").
SimpleResponse make_error(boost::beast::http::status status, std::string_view detail);

// Writes the response with the client's HTTP version; fills and returns the exchange record.
// A failed write leaves keep_alive false.
boost::asio::awaitable<Exchange> send_simple(boost::beast::tcp_stream& client, unsigned version,
                                             bool keep_alive, const SimpleResponse& response,
                                             std::string_view visible_hostname,
                                             std::chrono::milliseconds write_timeout);

}  // namespace cacheproxy
