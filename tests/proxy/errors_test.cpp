// Failures are answered clearly and the proxy keeps serving.
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

TEST_CASE("an origin that refuses connections gives 502", "[proxy][errors]") {
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response res = client.get("http://127.0.0.1:" + std::to_string(free_port()) + "/x");
  CHECK(res.result_int() == 502);
  CHECK(res.body().find("refused") != std::string::npos);
  // The same connection still works.
  CHECK(client.get("/stats").result_int() == 200);
}

TEST_CASE("an unknown host gives 502 naming the resolver's error", "[proxy][errors]") {
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  // .invalid never resolves (RFC 6761); the lookup fails locally.
  Response res = client.get("http://no-such-host.invalid/x");
  CHECK(res.result_int() == 502);
  CHECK(res.body().find("cannot resolve no-such-host.invalid") != std::string::npos);
}

TEST_CASE("a slow origin gives 504", "[proxy][errors]") {
  OriginServer origin([](const OriginRequest&) {
    OriginResponse r = make_response(200, "late");
    r.delay = std::chrono::milliseconds(3000);
    return r;
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.origin_read_timeout = std::chrono::milliseconds(300);
  });
  ProxyClient client(proxy.port());
  Response res = client.get(origin.url("/slow"));
  CHECK(res.result_int() == 504);
  auto lines = proxy.access_log_lines(1);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("/504 ") != std::string::npos);
}

TEST_CASE("an origin closing mid-body cuts the response and nothing is cached",
          "[proxy][errors][cache]") {
  OriginServer origin([](const OriginRequest&) {
    OriginResponse r =
        make_response(200, std::string(200000, 'z'), {{"Cache-Control", "max-age=3600"}});
    r.cut_after = 100000;
    return r;
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  {
    ProxyClient client(proxy.port());
    CHECK_THROWS(client.get(origin.url("/cut")));
  }
  ProxyClient again(proxy.port());
  CHECK_THROWS(again.get(origin.url("/cut")));
  // Both went to the origin: the truncated body was never stored.
  CHECK(origin.request_count("/cut") == 2);
  auto stats = proxy.server().services().stats.snapshot();
  CHECK(stats.stores == 0);
  CHECK(proxy.server().services().store.usage().entries == 0);
}

TEST_CASE("malformed requests get 400 and the proxy keeps serving", "[proxy][errors]") {
  TempDir dir;
  TestProxy proxy(dir.path());
  std::string reply = raw_exchange(proxy.port(), "GARBAGE\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  reply = raw_exchange(proxy.port(),
                       "GET ftp://example.test/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  reply = raw_exchange(
      proxy.port(), "GET https://example.test/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(reply.find("CONNECT") != std::string::npos);
  std::string huge =
      "GET http://example.test/ HTTP/1.1\r\nX-Big: " + std::string(100000, 'a') + "\r\n\r\n";
  reply = raw_exchange(proxy.port(), huge);
  CHECK(reply.rfind("HTTP/1.1 431", 0) == 0);
  ProxyClient client(proxy.port());
  CHECK(client.get("/stats").result_int() == 200);
}

TEST_CASE("an idle client is disconnected after client_idle_timeout", "[proxy][errors]") {
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.client_header_timeout = std::chrono::milliseconds(300);
    c.client_idle_timeout = std::chrono::milliseconds(300);
  });
  ProxyClient client(proxy.port());
  CHECK(client.get("/stats").result_int() == 200);
  auto start = std::chrono::steady_clock::now();
  CHECK(client.closed_by_peer());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(4));
  // The proxy's end is closed too, not left draining the idle client (that lingers 2 s).
  const auto closed = std::chrono::steady_clock::now();
  while (proxy.server().stats().snapshot().active_connections != 0 &&
         std::chrono::steady_clock::now() - closed < std::chrono::seconds(1)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(proxy.server().stats().snapshot().active_connections == 0);
}

TEST_CASE("a request header that never completes is dropped after client_header_timeout",
          "[proxy][errors]") {
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.client_header_timeout = std::chrono::milliseconds(300);
  });
  auto start = std::chrono::steady_clock::now();
  std::string reply = raw_exchange(proxy.port(), "GET http://example.test/ HTTP/1.1\r\nHost: x",
                                   std::chrono::seconds(10));
  CHECK(reply.empty());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  ProxyClient client(proxy.port());
  CHECK(client.get("/stats").result_int() == 200);
}

TEST_CASE("limits answer 414 and 413", "[proxy][errors][limits]") {
  OriginServer origin([](const OriginRequest& r) { return make_response(200, r.body); });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.max_request_line_size = 2048;
    c.max_request_body_size = 1000;
  });
  std::string long_target = origin.url("/" + std::string(3000, 'u'));
  std::string reply = raw_exchange(proxy.port(), "GET " + long_target + " HTTP/1.1\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 414", 0) == 0);
  std::string very_long = origin.url("/" + std::string(100000, 'u'));
  reply = raw_exchange(proxy.port(), "GET " + very_long + " HTTP/1.1\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 414", 0) == 0);

  ProxyClient client(proxy.port());
  Response small = client.request(http::verb::post, origin.url("/p"), {}, std::string(1000, 's'));
  CHECK(small.result_int() == 200);
  Response big = client.request(http::verb::post, origin.url("/p"), {}, std::string(1001, 'b'));
  CHECK(big.result_int() == 413);
  // A chunked body that grows past the limit is refused too, and never completed upstream.
  std::string chunked = "POST " + origin.url("/c") +
                        " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + "400\r\n" +
                        std::string(1024, 'c') + "\r\n0\r\n\r\n";
  reply = raw_exchange(proxy.port(), chunked);
  CHECK(reply.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(origin.request_count("/c") == 0);
}

TEST_CASE("ambiguous request framing is refused and never reaches the origin",
          "[proxy][errors][smuggling]") {
  OriginServer origin([](const OriginRequest&) { return make_response(200, "ok"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  std::string url = origin.url("/s");
  for (const std::string& headers : {
           std::string("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
           std::string("Content-Length: 5\r\nContent-Length: 6\r\n"),
           std::string("Content-Length: 5, 6\r\n"),
           std::string("Transfer-Encoding: chunked, identity\r\n"),
           std::string("Transfer-Encoding: gzip\r\n"),
           std::string("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
           std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
           std::string("Content-Length: +5\r\n"),
           std::string("Content-Length: 0x5\r\n"),
           std::string("Content-Length: -5\r\n"),
           std::string("Transfer-Encoding : chunked\r\n"),
           std::string("Content-Length : 5\r\n"),
           std::string("Content-Length: 5\r\n Transfer-Encoding: chunked\r\n"),
           std::string("Transfer-Encoding: xchunked\r\n"),
       }) {
    INFO(headers);
    std::string reply =
        raw_exchange(proxy.port(), "POST " + url + " HTTP/1.1\r\n" + headers + "\r\nhello");
    CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  }
  CHECK(origin.request_count() == 0);
}

TEST_CASE("an origin response with ambiguous framing is a 502 and not stored",
          "[proxy][errors][smuggling]") {
  OriginServer origin([](const OriginRequest&) {
    // The server adds its own Content-Length; a second, different one makes it ambiguous.
    return make_response(200, "abc", {{"Content-Length", "2"}, {"Cache-Control", "max-age=60"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response res = client.get(origin.url("/bad"));
  CHECK(res.result_int() == 502);
  CHECK(proxy.server().services().store.usage().entries == 0);
}

TEST_CASE("a request that already passed through this proxy is refused as a loop",
          "[proxy][errors]") {
  OriginServer origin([](const OriginRequest&) { return make_response(200, "ok"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response res = client.request(http::verb::get, origin.url("/loop"),
                                {{"Via", "1.1 upstream, 1.1 cacheproxy (cacheproxy/0.1.0)"}});
  CHECK(res.result_int() == 508);
  CHECK(origin.request_count() == 0);
}

TEST_CASE("connections over max_connections_per_client get 503 and others are still served",
          "[proxy][limits]") {
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.max_connections_per_client = 3; });
  std::vector<std::unique_ptr<ProxyClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<ProxyClient>(proxy.port()));
    CHECK(held.back()->get("/stats").result_int() == 200);
  }
  std::string refused = raw_exchange(proxy.port(), "GET /stats HTTP/1.1\r\n\r\n");
  CHECK(refused.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refused.find("max_connections_per_client") != std::string::npos);
  held.pop_back();  // one closes: a new connection fits again
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = raw_exchange(proxy.port(), "GET /stats HTTP/1.1\r\nConnection: close\r\n\r\n")
                 .rfind("HTTP/1.1 200", 0) == 0;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(served);
}

TEST_CASE("TRACE and OPTIONS with Max-Forwards 0 are answered by the proxy", "[proxy]") {
  OriginServer origin([](const OriginRequest& r) {
    return make_response(200, "origin saw Max-Forwards " + std::string(r.headers["Max-Forwards"]));
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response trace = client.request(http::verb::trace, origin.url("/t"),
                                  {{"Max-Forwards", "0"}, {"X-Probe", "yes"}});
  CHECK(trace.result_int() == 200);
  CHECK(trace[http::field::content_type] == "message/http");
  CHECK(trace.body().find("X-Probe: yes") != std::string::npos);
  Response options = client.request(http::verb::options, origin.url("/o"), {{"Max-Forwards", "0"}});
  CHECK(options.result_int() == 200);
  CHECK(options[http::field::allow].find("CONNECT") != std::string::npos);
  CHECK(origin.request_count() == 0);
  Response forwarded =
      client.request(http::verb::options, origin.url("/o"), {{"Max-Forwards", "3"}});
  CHECK(forwarded.body() == "origin saw Max-Forwards 2");
}

TEST_CASE("two thousand slow clients do not stop a normal client from being served",
          "[proxy][limits][slow]") {
  // Each slow connection costs two descriptors here (client and proxy side).
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  REQUIRE(files.rlim_cur >= 5000);
  OriginServer origin([](const OriginRequest&) { return make_response(200, "normal"); });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.max_connections_per_client = 4000;
    c.client_header_timeout = std::chrono::seconds(60);
  });
  boost::asio::io_context ioc;
  std::vector<boost::asio::ip::tcp::socket> slow;
  for (int i = 0; i < 2000; ++i) {
    slow.emplace_back(ioc);
    slow.back().connect({boost::asio::ip::make_address("127.0.0.1"), proxy.port()});
    // Half a request header, and then nothing.
    boost::asio::write(slow.back(),
                       boost::asio::buffer(std::string_view("GET http://x/ HTTP/1.1\r\nHo")));
  }
  // Every slow connection is accepted and held by the proxy before the normal client comes.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (proxy.server().services().connections.open() < 2000 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(proxy.server().services().connections.open() == 2000);
  auto start = std::chrono::steady_clock::now();
  ProxyClient client(proxy.port());
  Response res = client.get(origin.url("/n"));
  CHECK(res.body() == "normal");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("a client that stops reading a memory hit is dropped after client_write_timeout",
          "[proxy][errors]") {
  // More than the loopback socket buffers hold, so the proxy's write waits on the client.
  const std::string body(16 << 20, 'b');
  OriginServer origin([&body](const OriginRequest&) {
    return make_response(200, body, {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.client_write_timeout = std::chrono::milliseconds(300);
    c.memory_cache_size = 256 << 20;  // objects up to a quarter of it are kept in memory
  });
  const std::string url = origin.url("/big");
  {
    ProxyClient client(proxy.port());
    REQUIRE(client.get(url).body().size() == body.size());  // stored
    REQUIRE(client.get(url).body().size() == body.size());  // now in the memory tier
  }
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket stalled(ioc);
  stalled.open(boost::asio::ip::tcp::v4());
  stalled.set_option(boost::asio::socket_base::receive_buffer_size(4096));
  // A proxy that never gives up would keep the connection open: reads then fail, not hang.
  timeval read_timeout{5, 0};
  ::setsockopt(stalled.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &read_timeout,
               sizeof read_timeout);
  stalled.connect({boost::asio::ip::make_address("127.0.0.1"), proxy.port()});
  boost::asio::write(stalled, boost::asio::buffer("GET " + url + " HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Reads nothing for a while: the deadline passes 300-500 ms after the write started.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));

  // What the proxy sent before it gave up, then the end of the connection.
  std::size_t received = 0;
  std::array<char, 65536> chunk;
  const auto reading = std::chrono::steady_clock::now();
  bool ended = false;  // by end-of-file or reset, not by the read timeout
  while (std::chrono::steady_clock::now() - reading < std::chrono::seconds(20)) {
    // recv() itself: Asio's blocking read would wait out SO_RCVTIMEO in poll().
    ssize_t n = ::recv(stalled.native_handle(), chunk.data(), chunk.size(), 0);
    if (n > 0) {
      received += static_cast<std::size_t>(n);
      continue;
    }
    ended = n == 0 || errno == ECONNRESET;
    break;
  }
  CHECK(ended);
  CHECK(received < body.size());
  // And the proxy's end is closed, not left draining the client for another 2 s.
  const auto closed = std::chrono::steady_clock::now();
  while (proxy.server().stats().snapshot().active_connections != 0 &&
         std::chrono::steady_clock::now() - closed < std::chrono::milliseconds(700)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(proxy.server().stats().snapshot().active_connections == 0);
  std::vector<std::string> lines = proxy.access_log_lines(3);
  REQUIRE(lines.size() == 3);
  INFO(lines[1] << "\n" << lines[2]);
  CHECK(lines[2].find(" TCP_MEM_HIT/200 ") != std::string::npos);
  ProxyClient client(proxy.port());
  CHECK(client.get("/stats").result_int() == 200);
}
