// The proxy end to end: a real origin, the proxy in-process, real client sockets.
#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <thread>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

namespace {

OriginResponse cacheable(std::string body) {
  return make_response(200, std::move(body),
                       {{"Cache-Control", "max-age=3600"}, {"Content-Type", "text/plain"}});
}

bool contains(const std::string& line, const std::string& part) {
  return line.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a miss then a hit reaches the origin once", "[proxy][cache]") {
  OriginServer origin([](const OriginRequest&) { return cacheable("hello world"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());

  Response first = client.get(origin.url("/a.txt"));
  CHECK(first.result_int() == 200);
  CHECK(first.body() == "hello world");
  Response second = client.get(origin.url("/a.txt"));
  CHECK(second.result_int() == 200);
  CHECK(second.body() == "hello world");
  CHECK(second.count(http::field::age) == 1);
  CHECK(origin.request_count("/a.txt") == 1);

  auto lines = proxy.access_log_lines(2);
  REQUIRE(lines.size() == 2);
  CHECK(contains(lines[0], " TCP_MISS/200 "));
  CHECK(contains(lines[1], " TCP_HIT/200 "));
  // The third is served from the memory tier the disk hit promoted it to.
  Response third = client.get(origin.url("/a.txt"));
  CHECK(third.body() == "hello world");
  CHECK(contains(proxy.access_log_lines(3).at(2), " TCP_MEM_HIT/200 "));
  CHECK(origin.request_count("/a.txt") == 1);
}

TEST_CASE("equivalent URLs share one cache entry", "[proxy][cache]") {
  OriginServer origin([](const OriginRequest&) { return cacheable("same"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  std::string port = std::to_string(origin.port());
  client.get("http://127.0.0.1:" + port + "/%7Euser/x#frag");
  Response again = client.get("HTTP://127.0.0.1:" + port + "/~user/x");
  CHECK(again.body() == "same");
  CHECK(origin.request_count() == 1);
}

TEST_CASE("HEAD is answered from a GET entry without a body", "[proxy][cache]") {
  OriginServer origin([](const OriginRequest&) { return cacheable("0123456789"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  client.get(origin.url("/h"));
  Response head = client.request(http::verb::head, origin.url("/h"));
  CHECK(head.result_int() == 200);
  CHECK(head[http::field::content_length] == "10");
  CHECK(head.body().empty());
  CHECK(origin.request_count() == 1);
  // The connection is still in step: the next request on it works.
  CHECK(client.get(origin.url("/h")).body() == "0123456789");
}

TEST_CASE("POST passes through with its body and invalidates the entry", "[proxy][cache]") {
  int version = 0;
  OriginServer origin([&](const OriginRequest& r) {
    if (r.method == "POST") {
      ++version;
      return make_response(201, "got " + r.body);
    }
    return cacheable("v" + std::to_string(version));
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  CHECK(client.get(origin.url("/r")).body() == "v0");
  CHECK(client.get(origin.url("/r")).body() == "v0");
  Response posted = client.request(http::verb::post, origin.url("/r"),
                                   {{"Content-Type", "text/plain"}}, "payload-123");
  CHECK(posted.result_int() == 201);
  CHECK(posted.body() == "got payload-123");
  CHECK(origin.requests().back().body == "payload-123");
  // The stale entry is gone: the next GET goes to the origin.
  CHECK(client.get(origin.url("/r")).body() == "v1");
  CHECK(origin.request_count("/r") == 3 + 0);
}

TEST_CASE("a large POST body is streamed to the origin", "[proxy]") {
  OriginServer origin(
      [](const OriginRequest& r) { return make_response(200, std::to_string(r.body.size())); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  std::string body(3 * 1024 * 1024 + 17, 'x');
  Response res = client.request(http::verb::put, origin.url("/upload"), {}, body);
  CHECK(res.body() == std::to_string(body.size()));
}

TEST_CASE("100 requests on one keep-alive connection", "[proxy]") {
  OriginServer origin([](const OriginRequest& r) { return cacheable("body of " + r.target); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  for (int i = 0; i < 100; ++i) {
    std::string path = "/k" + std::to_string(i % 10);
    Response res = client.get(origin.url(path));
    REQUIRE(res.result_int() == 200);
    REQUIRE(res.body() == "body of " + path);
  }
  CHECK(origin.request_count() == 10);
  // Misses reuse pooled origin connections instead of opening one each.
  CHECK(origin.connection_count() < 10);
  CHECK(proxy.server().services().stats.snapshot().client_connections == 1);
}

TEST_CASE("HTTP/1.0 clients are served and the connection closes", "[proxy]") {
  OriginServer origin([](const OriginRequest&) {
    OriginResponse r = cacheable("chunked for 1.0");
    r.chunked = true;
    return r;
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response res = client.request(http::verb::get, origin.url("/old"), {}, {}, 10);
  CHECK(res.version() == 10);
  CHECK(res.body() == "chunked for 1.0");
}

TEST_CASE("a chunked origin response is relayed and cached", "[proxy][cache]") {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += std::to_string(i) + ",";
  OriginServer origin([&](const OriginRequest&) {
    OriginResponse r = cacheable(body);
    r.chunked = true;
    return r;
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response first = client.get(origin.url("/chunked"));
  CHECK(first.body() == body);  // relayed in several chunks (over 64 KiB)
  CHECK(first[http::field::transfer_encoding] == "chunked");
  Response second = client.get(origin.url("/chunked"));
  CHECK(second.body() == body);
  CHECK(second[http::field::content_length] == std::to_string(body.size()));
  CHECK(origin.request_count() == 1);
  // The chunked body ended where it should: the second answer came on the same connection.
  CHECK(proxy.server().services().stats.snapshot().client_connections == 1);
}

TEST_CASE("hop-by-hop fields are removed both ways and Via is added", "[proxy]") {
  OriginServer origin([](const OriginRequest&) {
    return make_response(200, "x",
                         {{"Connection", "X-Origin-Hop"},
                          {"X-Origin-Hop", "1"},
                          {"Keep-Alive", "timeout=5"},
                          {"X-End", "kept"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response res = client.request(http::verb::get, origin.url("/hop"),
                                {{"Connection", "X-Client-Hop"},
                                 {"X-Client-Hop", "1"},
                                 {"Proxy-Connection", "keep-alive"},
                                 {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                                 {"TE", "trailers"},
                                 {"X-Kept", "yes"}});
  CHECK(res.count("X-Origin-Hop") == 0);
  CHECK(res.count("Keep-Alive") == 0);
  CHECK(res["X-End"] == "kept");
  CHECK(res.count(http::field::via) == 1);
  auto seen = origin.requests().at(0).headers;
  CHECK(seen.count("X-Client-Hop") == 0);
  CHECK(seen.count("Proxy-Connection") == 0);
  CHECK(seen.count("Proxy-Authorization") == 0);
  CHECK(seen.count("TE") == 0);
  CHECK(seen["X-Kept"] == "yes");
  CHECK(seen[http::field::via].find("cacheproxy") != std::string::npos);
}

TEST_CASE("stale entries are revalidated and a 304 refreshes them", "[proxy][cache]") {
  OriginServer origin([](const OriginRequest& r) {
    if (r.headers[http::field::if_none_match] == "\"v1\"")
      return make_response(304, "", {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=0"}});
    return make_response(200, "versioned", {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=0"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  CHECK(client.get(origin.url("/v")).body() == "versioned");
  Response second = client.get(origin.url("/v"));
  CHECK(second.result_int() == 200);
  CHECK(second.body() == "versioned");
  REQUIRE(origin.request_count() == 2);
  CHECK(origin.requests().at(1).headers[http::field::if_none_match] == "\"v1\"");
  auto lines = proxy.access_log_lines(2);
  CHECK(contains(lines.at(1), " TCP_REFRESH_UNMODIFIED/200 "));
}

TEST_CASE("responses that must not be stored are not", "[proxy][cache]") {
  OriginServer origin([](const OriginRequest& r) {
    if (r.target == "/private") return make_response(200, "p", {{"Cache-Control", "private"}});
    if (r.target == "/nostore") return make_response(200, "n", {{"Cache-Control", "no-store"}});
    return make_response(200, "a", {{"Cache-Control", "max-age=60"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  for (int i = 0; i < 2; ++i) {
    client.get(origin.url("/private"));
    client.get(origin.url("/nostore"));
    client.request(http::verb::get, origin.url("/auth"), {{"Authorization", "Basic eDp5"}});
  }
  CHECK(origin.request_count("/private") == 2);
  CHECK(origin.request_count("/nostore") == 2);
  CHECK(origin.request_count("/auth") == 2);
}

TEST_CASE("/stats counts requests, hits and bytes", "[proxy][stats]") {
  OriginServer origin([](const OriginRequest&) { return cacheable(std::string(1000, 'b')); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  client.get(origin.url("/s1"));
  client.get(origin.url("/s1"));
  client.get(origin.url("/s1"));
  client.get(origin.url("/s2"));
  proxy.stored_usage(2);  // /s2 is committed just after its response
  Response stats = client.get("/stats");
  REQUIRE(stats.result_int() == 200);
  CHECK(stats[http::field::content_type] == "application/json");
  auto doc = boost::json::parse(stats.body()).as_object();
  CHECK(doc.at("requests").to_number<std::uint64_t>() == 4);
  CHECK(doc.at("misses").to_number<std::uint64_t>() == 2);
  CHECK(doc.at("disk_hits").to_number<std::uint64_t>() == 1);
  CHECK(doc.at("memory_hits").to_number<std::uint64_t>() == 1);
  CHECK(doc.at("bytes_from_cache").to_number<std::uint64_t>() == 2000);
  CHECK(doc.at("bytes_from_origin").to_number<std::uint64_t>() == 2000);
  CHECK(doc.at("request_hit_ratio").as_double() == Approx(0.5));
  CHECK(doc.at("cache").as_object().at("disk_entries").to_number<std::uint64_t>() == 2);
  // The same page through an absolute URL naming the proxy itself.
  Response self = client.get("http://127.0.0.1:" + std::to_string(proxy.port()) + "/stats");
  CHECK(self.result_int() == 200);
  CHECK(boost::json::parse(self.body()).as_object().at("requests").to_number<std::uint64_t>() == 5);
}

TEST_CASE("only-if-cached is answered from the cache or with 504", "[proxy][cache]") {
  OriginServer origin([](const OriginRequest&) { return cacheable("cached only"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response none =
      client.request(http::verb::get, origin.url("/o"), {{"Cache-Control", "only-if-cached"}});
  CHECK(none.result_int() == 504);
  CHECK(origin.request_count() == 0);
  client.get(origin.url("/o"));
  Response hit =
      client.request(http::verb::get, origin.url("/o"), {{"Cache-Control", "only-if-cached"}});
  CHECK(hit.result_int() == 200);
  CHECK(hit.body() == "cached only");
  CHECK(origin.request_count() == 1);
}

TEST_CASE("many clients at once on several threads", "[proxy][concurrency]") {
  OriginServer origin([](const OriginRequest& r) { return cacheable("object " + r.target); });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.threads = 4; });
  constexpr int kClients = 16;
  constexpr int kRequests = 25;
  std::atomic<int> good{0};
  auto run_clients = [&] {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        ProxyClient client(proxy.port());
        for (int i = 0; i < kRequests; ++i) {
          std::string path = "/c" + std::to_string((c * 7 + i) % 20);
          Response res = client.get(origin.url(path));
          if (res.result_int() == 200 && res.body() == "object " + path) ++good;
        }
      });
    }
    for (auto& t : clients) t.join();
  };
  run_clients();
  CHECK(good == kClients * kRequests);
  // Concurrent first requests for one object may each miss (no collapsed forwarding yet);
  // once stored, nothing reaches the origin again.
  std::size_t after_first_round = origin.request_count();
  CHECK(after_first_round >= 20);
  run_clients();
  CHECK(good == 2 * kClients * kRequests);
  CHECK(origin.request_count() == after_first_round);
  // Counted as each access-log line is written, just after its response.
  REQUIRE(proxy.access_log_lines(2 * kClients * kRequests).size() == 2 * kClients * kRequests);
  auto stats = proxy.server().services().stats.snapshot();
  CHECK(stats.hits() + stats.misses == 2 * kClients * kRequests);
}

TEST_CASE("idle origin connections are closed after origin_idle_timeout", "[proxy]") {
  OriginServer origin([](const OriginRequest&) { return make_response(200, "x"); });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.origin_idle_timeout = std::chrono::milliseconds(1000);
  });
  ProxyClient client(proxy.port());
  client.get(origin.url("/idle"));
  CHECK(origin.open_connection_count() == 1);  // kept in the pool for reuse
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (origin.open_connection_count() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(origin.open_connection_count() == 0);
}

TEST_CASE("an origin that closes idle connections unannounced is asked again on a new one",
          "[proxy][pool]") {
  // Each connection is closed after its response, without Connection: close: the pooled
  // connection is dead when the next request takes it. Taken at once, it is used without a
  // look and the request is sent again on a new connection; taken after a pause, the look
  // finds it closed. Either way every request is answered, once, by the origin.
  OriginServer origin([](const OriginRequest& req) {
    OriginResponse res = make_response(200, "body of " + req.target);
    res.close_unannounced = true;
    return res;
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.threads = 1; });
  ProxyClient client(proxy.port());
  constexpr int kRequests = 12;
  for (int i = 0; i < kRequests; ++i) {
    if (i == kRequests / 2) std::this_thread::sleep_for(std::chrono::milliseconds(700));
    const std::string path = fmt::format("/unannounced/{}", i);
    Response res = client.get(origin.url(path));
    INFO(path);
    CHECK(res.result_int() == 200);
    CHECK(res.body() == "body of " + path);
  }
  CHECK(origin.request_count() == kRequests);
  CHECK(origin.connection_count() == kRequests);
}

TEST_CASE("the default pool keeps an idle origin connection for each request in flight",
          "[proxy][pool]") {
  // Every response takes a while, so the first round holds kClients origin connections at
  // once; the second round must find them all idle in the pool (a smaller pool closes some
  // and the second round connects again).
  OriginServer origin([](const OriginRequest&) {
    OriginResponse res = make_response(200, "x");
    res.delay = std::chrono::milliseconds(200);
    return res;
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.threads = 1; });
  constexpr int kClients = 48;
  std::atomic<int> good{0};
  auto round = [&](int n) {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        ProxyClient client(proxy.port());
        Response res = client.get(origin.url(fmt::format("/pool/{}/{}", n, c)));
        if (res.result_int() == 200) ++good;
      });
    }
    for (auto& t : clients) t.join();
  };
  round(1);
  const std::size_t first_round = origin.connection_count();
  CHECK(first_round > 16);  // the requests really overlapped
  round(2);
  CHECK(good == 2 * kClients);
  CHECK(origin.connection_count() == first_round);
}

TEST_CASE("concurrent misses for one URL make one origin request", "[proxy][cache][collapsed]") {
  OriginServer origin([](const OriginRequest& r) {
    OriginResponse res = r.target == "/private"
                             ? make_response(200, "mine", {{"Cache-Control", "no-store"}})
                             : cacheable(std::string(300 * 1024, 'c'));
    res.delay = std::chrono::milliseconds(300);
    return res;
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.threads = 2; });
  auto burst = [&](const std::string& path, const std::string& expected) {
    std::atomic<int> good{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&] {
        ProxyClient client(proxy.port());
        Response res = client.get(origin.url(path));
        if (res.result_int() == 200 && res.body() == expected) ++good;
      });
    }
    for (auto& t : clients) t.join();
    return good.load();
  };
  CHECK(burst("/shared", std::string(300 * 1024, 'c')) == 8);
  CHECK(origin.request_count("/shared") == 1);
  // A response that cannot be stored sends every waiting request to the origin itself.
  CHECK(burst("/private", "mine") == 8);
  CHECK(origin.request_count("/private") == 8);
}

TEST_CASE("a POST invalidates the same-origin Location and Content-Location entries",
          "[proxy][cache]") {
  int version = 0;
  OriginServer origin([&](const OriginRequest& r) {
    if (r.method == "POST") {
      ++version;
      return make_response(201, "created",
                           {{"Location", "/items/7"}, {"Content-Location", "/items/list"}});
    }
    return cacheable(r.target + " v" + std::to_string(version));
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  for (const char* path : {"/items/7", "/items/list", "/items/other"}) client.get(origin.url(path));
  client.request(http::verb::post, origin.url("/items"), {}, "new");
  CHECK(client.get(origin.url("/items/7")).body() == "/items/7 v1");
  CHECK(client.get(origin.url("/items/list")).body() == "/items/list v1");
  CHECK(client.get(origin.url("/items/other")).body() == "/items/other v0");  // untouched
}

TEST_CASE("pipelined requests are answered in order, hits and misses alike", "[proxy]") {
  OriginServer origin([](const OriginRequest& r) {
    return cacheable(r.target.find("/first") != std::string::npos ? "body-of-first"
                                                                   : "body-of-second");
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient warm(proxy.port());
  REQUIRE(warm.get(origin.url("/first")).body() == "body-of-first");  // now a memory hit

  // Three requests in one write: a hit, a miss, the hit again (closing the connection).
  const std::string host = fmt::format("127.0.0.1:{}", origin.port());
  std::string requests;
  for (const char* path : {"/first", "/second", "/first"}) {
    requests += fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\n{}\r\n", origin.url(path), host,
                            std::string_view(path) == "/first" && !requests.empty()
                                ? "Connection: close\r\n"
                                : "");
  }
  const std::string answer = raw_exchange(proxy.port(), requests);
  const std::size_t first = answer.find("body-of-first");
  const std::size_t second = answer.find("body-of-second");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(first < second);
  CHECK(answer.find("body-of-first", second) != std::string::npos);
  std::size_t responses = 0;
  for (std::size_t at = answer.find("HTTP/1.1 200 "); at != std::string::npos;
       at = answer.find("HTTP/1.1 200 ", at + 1)) {
    ++responses;
  }
  CHECK(responses == 3);
  CHECK(origin.request_count("/second") == 1);
}
