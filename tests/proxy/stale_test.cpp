// Serving stale over sockets (RFC 5861, RFC 9111 §4.2.4): stale-if-error, offline_mode,
// stale-while-revalidate with one background revalidation.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Serves `good` with `cache_control` until `failing` is set, then 503.
struct FlakyOrigin {
  explicit FlakyOrigin(std::string cache_control)
      : server([this, cc = std::move(cache_control)](const OriginRequest&) {
          if (failing) return make_response(503, "origin down");
          return make_response(200, "good", {{"Cache-Control", cc}, {"ETag", "\"g\""}});
        }) {}
  std::atomic<bool> failing{false};
  OriginServer server;
};

}  // namespace

TEST_CASE("stale-if-error serves the stale entry when the origin answers 5xx",
          "[proxy][stale]") {
  FlakyOrigin origin("max-age=0, stale-if-error=3600");
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.server.url("/e");
  CHECK(client.get(url).body() == "good");
  origin.failing = true;
  Response stale = client.get(url);
  CHECK(stale.result_int() == 200);
  CHECK(stale.body() == "good");
  CHECK(stale.count(http::field::warning) == 0);  // RFC 9111: Warning is obsolete
  CHECK(origin.server.request_count("/e") == 2);  // it did try the origin
  CHECK(contains(proxy.access_log_lines(2).at(1), " TCP_REFRESH_FAIL_OLD/200 "));
}

TEST_CASE("stale-if-error serves the stale entry when the origin is unreachable",
          "[proxy][stale]") {
  auto origin = std::make_unique<OriginServer>([](const OriginRequest&) {
    return make_response(200, "kept", {{"Cache-Control", "max-age=0, stale-if-error=3600"},
                                       {"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin->url("/u");
  CHECK(client.get(url).body() == "kept");
  origin.reset();  // nothing listens on the port any more: connection refused
  Response stale = client.get(url);
  CHECK(stale.result_int() == 200);
  CHECK(stale.body() == "kept");
}

TEST_CASE("must-revalidate forbids serving stale on error", "[proxy][stale]") {
  FlakyOrigin origin("max-age=0, stale-if-error=3600, must-revalidate");
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.server.url("/m");
  client.get(url);
  origin.failing = true;
  Response answer = client.get(url);
  CHECK(answer.result_int() == 503);
  CHECK(answer.body() == "origin down");
}

TEST_CASE("without stale-if-error the origin error is relayed", "[proxy][stale]") {
  FlakyOrigin origin("max-age=0");
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.server.url("/plain");
  client.get(url);
  origin.failing = true;
  CHECK(client.get(url).result_int() == 503);
}

TEST_CASE("offline_mode serves stale entries when the origin fails", "[proxy][stale]") {
  auto origin = std::make_unique<OriginServer>([](const OriginRequest&) {
    return make_response(200, "offline copy", {{"Cache-Control", "max-age=0"}, {"ETag", "\"o\""}});
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.offline_mode = true; });
  ProxyClient client(proxy.port());
  const std::string url = origin->url("/off");
  client.get(url);
  origin.reset();
  Response stale = client.get(url);
  CHECK(stale.result_int() == 200);
  CHECK(stale.body() == "offline copy");
  CHECK(contains(proxy.access_log_lines(2).at(1), " TCP_REFRESH_FAIL_OLD/200 "));
}

TEST_CASE("offline_mode still honours no-cache", "[proxy][stale]") {
  auto origin = std::make_unique<OriginServer>([](const OriginRequest&) {
    return make_response(200, "x", {{"Cache-Control", "no-cache"}, {"ETag", "\"o\""}});
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.offline_mode = true; });
  ProxyClient client(proxy.port());
  const std::string url = origin->url("/nc");
  client.get(url);
  origin.reset();
  CHECK(client.get(url).result_int() == 502);
}

TEST_CASE("stale-while-revalidate answers at once and revalidates in the background",
          "[proxy][stale]") {
  std::atomic<int> version{1};
  OriginServer origin([&version](const OriginRequest& r) {
    std::string etag = "\"v" + std::to_string(version.load()) + "\"";
    if (r.headers["If-None-Match"] == etag) {
      return make_response(304, "", {{"ETag", etag}});
    }
    return make_response(200, "v" + std::to_string(version.load()),
                         {{"Cache-Control", "max-age=0, stale-while-revalidate=3600"},
                          {"ETag", etag}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/swr");
  CHECK(client.get(url).body() == "v1");
  version = 2;
  // Stale: answered from the cache with the old body, whatever the origin has now.
  Response stale = client.get(url);
  CHECK(stale.body() == "v1");
  CHECK(contains(proxy.access_log_lines(2).at(1), "_HIT/200 "));
  // The background revalidation was a conditional request, and it stores the new body.
  std::string body;
  for (int i = 0; i < 200 && body != "v2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    body = client.get(url).body();
  }
  CHECK(body == "v2");
  auto requests = origin.requests();
  REQUIRE(requests.size() >= 2);
  CHECK(requests.at(1).headers["If-None-Match"] == "\"v1\"");
}

TEST_CASE("concurrent revalidations of one stale entry make one conditional request",
          "[proxy][stale][collapsed]") {
  std::atomic<int> conditional{0};
  OriginServer origin([&conditional](const OriginRequest& r) {
    if (!r.headers["If-None-Match"].empty()) {
      ++conditional;
      OriginResponse not_modified =
          make_response(304, "", {{"ETag", "\"c\""}, {"Cache-Control", "max-age=3600"}});
      not_modified.delay = std::chrono::milliseconds(300);  // the others arrive meanwhile
      return not_modified;
    }
    return make_response(200, "shared", {{"Cache-Control", "max-age=0"}, {"ETag", "\"c\""}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  const std::string url = origin.url("/c");
  {
    ProxyClient client(proxy.port());
    CHECK(client.get(url).body() == "shared");
  }
  constexpr int kClients = 6;
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      ProxyClient client(proxy.port());
      if (client.get(url).body() == "shared") ++ok;
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok == kClients);
  CHECK(conditional == 1);
}
