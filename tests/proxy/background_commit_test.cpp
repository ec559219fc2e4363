// A fetched entry that replaces nothing is committed after its client has the response
// (proxy/background_commit): the connection goes on at once. Whatever the client asks next
// must still find the entry, and nothing may be lost when the client leaves or the proxy
// stops right after the response.
#include <boost/beast/http/field.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "proxy/background_commit.hpp"

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

namespace {

OriginServer cacheable_origin() {
  return OriginServer([](const OriginRequest& r) {
    return make_response(200, "body of " + r.target, {{"Cache-Control", "max-age=3600"}});
  });
}

}  // namespace

TEST_CASE("the request after a miss's response finds the entry, whatever it asks",
          "[proxy][cache][commit]") {
  OriginServer origin = cacheable_origin();
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  // Each next request goes out as soon as the miss's last byte is in: many rounds, so a
  // request that overtook the commit would show.
  constexpr int kRounds = 30;
  for (int i = 0; i < kRounds; ++i) {
    const std::string path = "/b" + std::to_string(i);
    const std::string url = origin.url(path);
    REQUIRE(client.get(url).body() == "body of " + path);
    INFO("round " << i);
    switch (i % 3) {
      case 0: {  // HEAD never leads a fetch; it waits for the one storing
        Response head = client.request(http::verb::head, url);
        CHECK(head.result_int() == 200);
        CHECK(head[http::field::content_length] == std::to_string(("body of " + path).size()));
        break;
      }
      case 1: {  // only-if-cached may not ask the origin (RFC 9111 §5.2.1.7)
        Response cached =
            client.request(http::verb::get, url, {{"Cache-Control", "only-if-cached"}});
        CHECK(cached.result_int() == 200);
        CHECK(cached.body() == "body of " + path);
        break;
      }
      default:
        CHECK(client.get(url).body() == "body of " + path);
        break;
    }
    CHECK(origin.request_count(path) == 1);
  }
  auto lines = proxy.access_log_lines(2 * kRounds);
  REQUIRE(lines.size() == 2 * kRounds);
  for (int i = 0; i < kRounds; ++i) {
    INFO(lines[2 * i + 1]);
    CHECK(lines[2 * i].find(" TCP_MISS/200 ") != std::string::npos);
    CHECK(lines[2 * i + 1].find("HIT/200 ") != std::string::npos);
  }
}

TEST_CASE("a miss whose client leaves after the last byte is stored",
          "[proxy][cache][commit]") {
  OriginServer origin = cacheable_origin();
  TempDir dir;
  TestProxy proxy(dir.path());
  const std::string url = origin.url("/leaving");
  const std::string answer = raw_exchange(
      proxy.port(), "GET " + url + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(answer.find("body of /leaving") != std::string::npos);
  CHECK(proxy.stored_usage(1).entries == 1);
  ProxyClient client(proxy.port());
  CHECK(client.get(url).body() == "body of /leaving");
  CHECK(origin.request_count("/leaving") == 1);
}

TEST_CASE("stopping right after a miss keeps its entry", "[proxy][cache][commit][restart]") {
  OriginServer origin = cacheable_origin();
  TempDir dir;
  const std::string url = origin.url("/kept");
  {
    TestProxy proxy(dir.path());
    ProxyClient client(proxy.port());
    CHECK(client.get(url).body() == "body of /kept");
    proxy.stop();  // graceful: waits for the commit as for a request
  }
  TestProxy proxy(dir.path());
  CHECK(proxy.server().services().store.usage().entries == 1);
  ProxyClient client(proxy.port());
  CHECK(client.get(url).body() == "body of /kept");
  CHECK(origin.request_count("/kept") == 1);
}

TEST_CASE("background commits hold a bounded allowance", "[proxy][commit]") {
  cacheproxy::Config config;
  cacheproxy::SharedState shared(config);
  using cacheproxy::BackgroundCommitRoom;
  using cacheproxy::kBackgroundCommitBytes;
  using cacheproxy::kBackgroundCommitOverhead;
  std::vector<BackgroundCommitRoom> rooms;
  const std::uint64_t body = 64 << 10;
  while (auto room = BackgroundCommitRoom::reserve(shared, body)) rooms.push_back(std::move(*room));
  CHECK(rooms.size() == kBackgroundCommitBytes / (body + kBackgroundCommitOverhead));
  CHECK(shared.background_commit_bytes <= kBackgroundCommitBytes);
  CHECK_FALSE(BackgroundCommitRoom::reserve(shared, body));
  rooms.pop_back();  // a commit done gives its room back
  CHECK(BackgroundCommitRoom::reserve(shared, body));
  rooms.clear();
  CHECK(shared.background_commit_bytes == 0);
}

TEST_CASE("with the allowance taken, a miss is relayed and not stored",
          "[proxy][cache][commit]") {
  OriginServer origin = cacheable_origin();
  TempDir dir;
  TestProxy proxy(dir.path());
  auto& held = proxy.server().services().shared.background_commit_bytes;
  // As if stalled commits held nearly all of it: the store is behind.
  const std::uint64_t taken = cacheproxy::kBackgroundCommitBytes - 100;
  held = taken;
  ProxyClient client(proxy.port());
  CHECK(client.get(origin.url("/skipped")).body() == "body of /skipped");
  CHECK(client.get(origin.url("/skipped")).body() == "body of /skipped");
  CHECK(origin.request_count("/skipped") == 2);  // neither response was stored
  CHECK(proxy.server().services().stats.snapshot().stores_skipped == 2);
  CHECK(proxy.server().services().store.usage().entries == 0);
  CHECK(held == taken);
  held = 0;  // the store caught up
  CHECK(client.get(origin.url("/skipped")).body() == "body of /skipped");
  CHECK(proxy.stored_usage(1).entries == 1);
  CHECK(client.get(origin.url("/skipped")).body() == "body of /skipped");
  CHECK(origin.request_count("/skipped") == 3);
  // The background commit gives its room back once done.
  for (int i = 0; i < 1000 && held != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(held == 0);
}

TEST_CASE("a body larger than the allowance is stored while its client waits",
          "[proxy][cache][commit]") {
  const std::string big(cacheproxy::kBackgroundCommitBytes + 1, 'b');
  OriginServer origin([&big](const OriginRequest&) {
    return make_response(200, big, {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  auto& held = proxy.server().services().shared.background_commit_bytes;
  held = 4096;  // other commits pending do not turn it away
  ProxyClient client(proxy.port());
  CHECK(client.get(origin.url("/big")).body() == big);
  // Committed before the last byte went: no waiting needed to see it.
  CHECK(proxy.server().services().store.usage().entries == 1);
  CHECK(proxy.server().services().stats.snapshot().stores_skipped == 0);
  CHECK(client.get(origin.url("/big")).body() == big);
  CHECK(origin.request_count("/big") == 1);
  held = 0;
}
