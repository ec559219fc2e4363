#include "proxy/request_target.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache_key.hpp"
#include "cache/header_fields.hpp"
#include "support/generated_urls.hpp"

using namespace cacheproxy;
namespace http = boost::beast::http;

namespace {
const std::vector<ListenAddress> kSelf{{"127.0.0.1", 3128}};
RequestTarget classify(http::verb method, std::string_view target) {
  return classify_target(method, target, kSelf, "proxy.lan");
}
}  // namespace

TEST_CASE("absolute-form http URLs are forwarded", "[request_target]") {
  RequestTarget t = classify(http::verb::get, "http://Example.test:8080/a/b?q=1");
  CHECK(t.kind == TargetKind::forward);
  CHECK(t.host == "Example.test");
  CHECK(t.port == 8080);
  CHECK(t.path == "/a/b?q=1");
  RequestTarget root = classify(http::verb::get, "http://example.test");
  CHECK(root.kind == TargetKind::forward);
  CHECK(root.port == 80);
  CHECK(root.path == "/");
  RequestTarget v6 = classify(http::verb::get, "http://[::1]:81/x");
  CHECK(v6.kind == TargetKind::forward);
  CHECK(v6.host == "::1");
}

TEST_CASE("requests naming the proxy itself are local", "[request_target]") {
  CHECK(classify(http::verb::get, "/stats").kind == TargetKind::local);
  CHECK(classify(http::verb::get, "http://127.0.0.1:3128/stats").kind == TargetKind::local);
  CHECK(classify(http::verb::get, "http://proxy.lan:3128/").kind == TargetKind::local);
  CHECK(classify(http::verb::get, "http://127.0.0.1:3129/").kind == TargetKind::forward);
}

TEST_CASE("other targets are classified or rejected", "[request_target]") {
  struct Row {
    http::verb method;
    const char* target;
    TargetKind kind;
  };
  for (const Row& row : {
           Row{http::verb::connect, "example.test:443", TargetKind::connect},
           Row{http::verb::connect, "example.test", TargetKind::invalid},
           Row{http::verb::connect, "/path", TargetKind::invalid},
           Row{http::verb::get, "https://example.test/", TargetKind::https_absolute},
           Row{http::verb::get, "ftp://example.test/", TargetKind::invalid},
           Row{http::verb::get, "http://user:pw@example.test/", TargetKind::invalid},
           Row{http::verb::get, "http:///nohost", TargetKind::invalid},
           Row{http::verb::get, "http://example.test:0/", TargetKind::invalid},
           Row{http::verb::get, "not a url", TargetKind::invalid},
           // Found by tests/fuzz: Boost.URL takes "+%72ag" as the path after the port.
           Row{http::verb::get, "http://[2001:db8::1]:8080+%72ag", TargetKind::invalid},
           Row{http::verb::get, "http://[2001:db8::1]:8080", TargetKind::forward},
           // Also found by tests/fuzz: Boost.URL wraps ports above 65535 (77777 -> 12241).
           Row{http::verb::get, "http://example.test:77777/", TargetKind::invalid},
           Row{http::verb::get, "http://example.test:65536/", TargetKind::invalid},
           Row{http::verb::get, "http://example.test:65535/", TargetKind::forward},
           Row{http::verb::get, "http://example.test:/", TargetKind::forward},
           Row{http::verb::connect, "example.test:70443", TargetKind::invalid},
           // An empty host names nothing (found by tests/fuzz).
           Row{http::verb::connect, ":8443", TargetKind::invalid},
           Row{http::verb::connect, "[::1]:8443", TargetKind::connect},
       }) {
    INFO(row.target);
    CHECK(classify(row.method, row.target).kind == row.kind);
  }
}

TEST_CASE("a repeated target is classified as the first time", "[request_target]") {
  // Parses are remembered per thread: a repeat must give the same answer, and whether the
  // target names the proxy is still decided by the configuration passed with each call.
  for (int round = 0; round < 3; ++round) {
    RequestTarget t = classify(http::verb::get, "http://Example.test:8080/a/b?q=1");
    CHECK(t.kind == TargetKind::forward);
    CHECK(t.host == "Example.test");
    CHECK(t.port == 8080);
    CHECK(t.path == "/a/b?q=1");
    CHECK(t.url == "http://Example.test:8080/a/b?q=1");
    RequestTarget bad = classify(http::verb::get, "http://example.test:77777/");
    CHECK(bad.kind == TargetKind::invalid);
    CHECK(bad.reason == "invalid port");
    CHECK(classify_target(http::verb::get, "http://127.0.0.1:3128/stats", kSelf, "proxy.lan")
              .kind == TargetKind::local);
    CHECK(classify_target(http::verb::get, "http://127.0.0.1:3128/stats", {}, "proxy.lan")
              .kind == TargetKind::forward);
  }
  // Past the length kept in the table, the answer is the same too.
  const std::string long_path(600, 'p');
  RequestTarget long_target = classify(http::verb::get, "http://example.test/" + long_path);
  CHECK(long_target.kind == TargetKind::forward);
  CHECK(long_target.path == "/" + long_path);
}

TEST_CASE("Via names the protocol version and this proxy", "[request_target]") {
  CHECK(via_value(11, "gw") == "1.1 gw (cacheproxy/0.1.0)");
  cacheproxy::Fields f;
  f.set(http::field::via, "1.0 upstream");
  append_via(f, 10, "gw");
  CHECK(std::distance(f.equal_range(http::field::via).first,
                      f.equal_range(http::field::via).second) == 2);
}

TEST_CASE("a target split by hand is classified as the parser classifies it",
          "[request_target]") {
  // Targets near the edges of the shortcut for URLs in normal form: each must be classified
  // alike with and without it (and without the table of recent targets).
  const cacheproxy::testing::UrlPieces pieces{
      .starts = {"http://", "https://", "HTTP://", "http:/"},
      .hosts = {"x.org", "X.org", "127.0.0.1", "", "a_b", "[::1]", "u@x.org", "x%41.org", "-",
                "proxy.lan"},
      .ports = {"", ":80", ":3128", ":8080", ":08080", ":0", ":65535", ":65536", ":", ":8o"},
      .plain = {"/", "a", "Z", "09", "-", "_", "~", "'", "(", "!", "$", "*", "+", ",", ";", "=",
                ":", "@", "?", "/.x"},
      .special = {".", "/..", "%7e", "%", "#", " ", "\"", "{", "\\"},
  };
  const std::vector<ListenAddress> self{{"127.0.0.1", 3128}};
  int forwarded = 0;
  int normal = 0;
  // As a connection does: every target classified into one object, after all the others.
  RequestTarget reused;
  for (const std::string& target :
       cacheproxy::testing::generated_urls(pieces, 20000, 0x9E3779B97F4A7C15u)) {
    CAPTURE(target);
    const RequestTarget a = classify_target(http::verb::get, target, self, "proxy.lan");
    const RequestTarget b =
        classify_target(http::verb::get, target, self, "proxy.lan", TargetParse::parser_only);
    classify_target(reused, http::verb::get, target, self, "proxy.lan");
    for (const RequestTarget* t : {&a, &std::as_const(reused)}) {
      REQUIRE(t->kind == b.kind);
      REQUIRE(t->host == b.host);
      REQUIRE(t->port == b.port);
      REQUIRE(t->path == b.path);
      REQUIRE(t->url == b.url);
      REQUIRE(t->reason == b.reason);
      REQUIRE(t->normal_url == b.normal_url);
    }
    // A URL said to be in normal form is its own cache key.
    if (a.normal_url) REQUIRE(cacheproxy::cache::normalize_parsed(a.url) == a.url);
    if (a.normal_url) ++normal;
    if (a.kind == TargetKind::forward) ++forwarded;
  }
  CHECK(forwarded > 1000);
  CHECK(normal > 100);
}

TEST_CASE("a target classified into a used one leaves nothing of the last and keeps its storage",
          "[request_target]") {
  RequestTarget t;
  classify_target(t, http::verb::get, "http://long-host-name.example.test:8080/some/long/path?q=1",
                  kSelf, "proxy.lan");
  REQUIRE(t.kind == TargetKind::forward);
  const char* url_storage = t.url.data();
  const char* path_storage = t.path.data();
  classify_target(t, http::verb::connect, "tunnel.example.test:443", kSelf, "proxy.lan");
  CHECK(t.kind == TargetKind::connect);
  CHECK(t.host == "tunnel.example.test");
  CHECK(t.port == 443);
  CHECK(t.path.empty());
  CHECK(t.url == "tunnel.example.test:443");
  classify_target(t, http::verb::get, "http://example.test/a-path-longer-than-sso", kSelf,
                  "proxy.lan");
  CHECK(t.host == "example.test");
  CHECK(t.port == 80);
  CHECK(t.path == "/a-path-longer-than-sso");
  CHECK(t.normal_url);
  // The same storage: a connection's next request copies its target's parts without
  // allocating.
  CHECK(t.url.data() == url_storage);
  CHECK(t.path.data() == path_storage);
  classify_target(t, http::verb::get, "ftp://example.test/", kSelf, "proxy.lan");
  CHECK(t.kind == TargetKind::invalid);
  CHECK(t.host.empty());
  CHECK(t.path.empty());
  CHECK(t.url.empty());
  CHECK(t.port == 0);
  CHECK_FALSE(t.normal_url);
  CHECK(t.reason == "unsupported URL scheme");
}
