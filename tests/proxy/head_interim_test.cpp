// HEAD and the stored GET response (RFC 9110 §9.3.2, RFC 9111 §4.3.5), and interim responses
// (RFC 9110 §15.2: 100 Continue, RFC 8297: 103 Early Hints) over sockets.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;
namespace asio = boost::asio;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Answers GET with a stale body and HEAD with the given validator and Cache-Control.
OriginServer head_origin(std::string head_etag) {
  return OriginServer([head_etag](const OriginRequest& r) {
    if (r.method == "HEAD") {
      return make_response(200, "0123456789",
                           {{"ETag", head_etag}, {"Cache-Control", "max-age=3600"}});
    }
    return make_response(200, "0123456789", {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=0"}});
  });
}

}  // namespace

TEST_CASE("HEAD is answered from a stored GET response", "[proxy][head]") {
  OriginServer origin([](const OriginRequest&) {
    return make_response(200, "0123456789", {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/h");
  client.get(url);
  std::string answer = raw_exchange(proxy.port(), "HEAD " + url +
                                                      " HTTP/1.1\r\nHost: x\r\nConnection: "
                                                      "close\r\n\r\n");
  CHECK(contains(answer, "HTTP/1.1 200"));
  CHECK(contains(answer, "Content-Length: 10"));
  CHECK_FALSE(contains(answer, "0123456789"));
  CHECK(origin.request_count("/h") == 1);
}

TEST_CASE("a HEAD response that matches freshens the stored GET response", "[proxy][head]") {
  OriginServer origin = head_origin("\"v1\"");
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/fresh");
  client.get(url);
  CHECK(client.request(http::verb::head, url).result_int() == 200);
  CHECK(origin.request_count("/fresh") == 2);
  // The stored response took max-age=3600 from the HEAD response: a hit now.
  Response hit = client.get(url);
  CHECK(hit.body() == "0123456789");
  CHECK(hit[http::field::cache_control] == "max-age=3600");
  CHECK(origin.request_count("/fresh") == 2);
}

TEST_CASE("a HEAD response with another ETag invalidates the stored response",
          "[proxy][head]") {
  OriginServer origin = head_origin("\"v2\"");
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/changed");
  client.get(url);
  client.request(http::verb::head, url);
  client.get(url);
  CHECK(origin.request_count("/changed") == 3);  // the GET went to the origin again
}

TEST_CASE("the proxy answers Expect 100-continue before the body", "[proxy][interim]") {
  OriginServer origin([](const OriginRequest& r) { return make_response(200, "got " + r.body); });
  TempDir dir;
  TestProxy proxy(dir.path());
  // The body is sent with the header here; the 100 still comes first, then the final answer.
  std::string answer = raw_exchange(
      proxy.port(), "POST " + origin.url("/upload") +
                        " HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
                        "4\r\nConnection: close\r\n\r\ndata");
  CHECK(answer.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
  CHECK(contains(answer, "HTTP/1.1 200"));
  CHECK(contains(answer, "got data"));
  REQUIRE(origin.requests().size() == 1);
  CHECK(origin.requests().at(0).headers.count(http::field::expect) == 0);
}

TEST_CASE("103 Early Hints are relayed and never cached", "[proxy][interim]") {
  // A hand-written origin: OriginServer cannot send interim responses.
  asio::io_context ioc;
  asio::ip::tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  std::atomic<int> served{0};
  std::thread origin([&] {
    for (int i = 0; i < 2; ++i) {
      asio::ip::tcp::socket socket(ioc);
      boost::system::error_code ec;
      acceptor.accept(socket, ec);
      if (ec) return;
      asio::streambuf request;
      asio::read_until(socket, request, "\r\n\r\n", ec);
      if (ec) return;
      ++served;
      std::string reply =
          "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
          "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCache-Control: max-age=3600\r\n"
          "Connection: close\r\n\r\nok";
      asio::write(socket, asio::buffer(reply), ec);
    }
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hints";
  const std::string request = "GET " + url + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  std::string first = raw_exchange(proxy.port(), request);
  INFO(first);
  CHECK(first.rfind("HTTP/1.1 103 Early Hints\r\n", 0) == 0);
  CHECK(contains(first, "Link: </style.css>; rel=preload"));
  CHECK(contains(first, "HTTP/1.1 200 OK"));
  CHECK(first.substr(first.size() - 2) == "ok");
  // The entry is committed just after its response: a request sent meanwhile can look before
  // the entry is stored and ask for the key after the commit let it go, and fetch again.
  proxy.stored_usage(1);
  // From the cache: the final response only.
  std::string second = raw_exchange(proxy.port(), request);
  CHECK(second.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK_FALSE(contains(second, "103"));
  CHECK(served == 1);
  // Unblock the origin thread's second accept with a connection that sends nothing.
  {
    boost::system::error_code ec;
    asio::io_context poke_ioc;
    asio::ip::tcp::socket poke(poke_ioc);
    poke.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    poke.close(ec);
  }
  origin.join();
}
