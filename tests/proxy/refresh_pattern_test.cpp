// refresh_pattern over sockets: per-URL heuristic freshness decides hit or revalidation.
#include <catch2/catch.hpp>
#include <string>

#include "proxy/config.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

TEST_CASE("refresh_pattern gives matching URLs their own heuristic freshness",
          "[proxy][refresh_pattern]") {
  // No explicit lifetime: only a Last-Modified long ago.
  OriginServer origin([](const OriginRequest&) {
    return make_response(200, "body", {{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.heuristic_percent = 0;  // elsewhere: no heuristic lifetime, always revalidated
    std::string error;
    c.refresh_patterns.push_back(*cacheproxy::cache::parse_refresh_pattern(
        "-i \\.css$ 60 20 1440", &error));
  });
  ProxyClient client(proxy.port());
  client.get(origin.url("/style.CSS"));
  client.get(origin.url("/style.CSS"));
  CHECK(origin.request_count("/style.CSS") == 1);  // fresh by the pattern: a hit
  client.get(origin.url("/page.html"));
  client.get(origin.url("/page.html"));
  CHECK(origin.request_count("/page.html") == 2);  // stale at once: revalidated
}

TEST_CASE("refresh_pattern lines are checked in the config", "[config][refresh_pattern]") {
  const char* good[] = {"cacheproxy", "--refresh-pattern=\\.jpg$ 0 20 4320",
                        "--refresh_pattern=-i ^http://cdn\\. 10 50 60"};
  cacheproxy::ConfigResult r = cacheproxy::parse_config(3, good);
  REQUIRE(r.config);
  REQUIRE(r.config->refresh_patterns.size() == 2);
  CHECK(r.config->refresh_patterns[1].rules.min_lifetime == std::chrono::minutes(10));
  const char* bad[] = {"cacheproxy", "--refresh-pattern=([ 0 20 4320"};
  cacheproxy::ConfigResult e = cacheproxy::parse_config(2, bad);
  CHECK_FALSE(e.config);
  CHECK(e.message.find("refresh_pattern") != std::string::npos);
}
