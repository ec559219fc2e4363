// Small helpers of an exchange (proxy/exchange_helpers.hpp): the Host field a forwarded
// request carries to the origin, and which methods may be sent again.
#include "proxy/exchange_helpers.hpp"

#include <catch2/catch.hpp>

using namespace cacheproxy;

namespace {

RequestTarget target(std::string host, std::uint16_t port) {
  RequestTarget t;
  t.kind = TargetKind::forward;
  t.host = std::move(host);
  t.port = port;
  return t;
}

}  // namespace

TEST_CASE("host_field: the port unless http's default, IPv6 addresses in brackets",
          "[exchange]") {
  CHECK(exchange::host_field(target("example.test", 80)) == "example.test");
  CHECK(exchange::host_field(target("example.test", 8080)) == "example.test:8080");
  CHECK(exchange::host_field(target("127.0.0.1", 65535)) == "127.0.0.1:65535");
  CHECK(exchange::host_field(target("::1", 80)) == "[::1]");
  CHECK(exchange::host_field(target("2001:db8::1", 8443)) == "[2001:db8::1]:8443");
}

TEST_CASE("idempotent: the methods RFC 9110 lets a proxy send again", "[exchange]") {
  namespace http = boost::beast::http;
  for (http::verb v : {http::verb::get, http::verb::head, http::verb::options, http::verb::trace,
                       http::verb::put, http::verb::delete_})
    CHECK(exchange::idempotent(v));
  for (http::verb v : {http::verb::post, http::verb::patch, http::verb::connect})
    CHECK_FALSE(exchange::idempotent(v));
}
