// Vary over sockets (RFC 9111 §4.1): variants of one URL stored side by side.
#include <catch2/catch.hpp>
#include <string>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

namespace {

// An origin that answers with a body naming the Accept-Encoding it saw.
OriginResponse by_encoding(const OriginRequest& request, const std::string& vary) {
  std::string encoding(request.headers["Accept-Encoding"]);
  std::string body = "variant:" + (encoding.empty() ? std::string("none") : encoding);
  return make_response(200, body,
                       {{"Cache-Control", "max-age=3600"}, {"Vary", vary}, {"ETag", "\"e\""}});
}

Response get(ProxyClient& client, const std::string& url, const std::string& encoding) {
  if (encoding.empty()) return client.request(http::verb::get, url);
  return client.request(http::verb::get, url, {{"Accept-Encoding", encoding}});
}

}  // namespace

TEST_CASE("Vary Accept-Encoding variants are stored side by side", "[proxy][vary]") {
  OriginServer origin([](const OriginRequest& r) { return by_encoding(r, "Accept-Encoding"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/v");

  CHECK(get(client, url, "gzip").body() == "variant:gzip");
  CHECK(get(client, url, "br").body() == "variant:br");
  CHECK(get(client, url, "").body() == "variant:none");
  CHECK(origin.request_count("/v") == 3);
  // Each variant is now a hit, none collapsed into another.
  for (int round = 0; round < 2; ++round) {
    CHECK(get(client, url, "gzip").body() == "variant:gzip");
    CHECK(get(client, url, "br").body() == "variant:br");
    CHECK(get(client, url, "").body() == "variant:none");
  }
  CHECK(origin.request_count("/v") == 3);
  auto lines = proxy.access_log_lines(9);
  CHECK(lines.at(3).find("_HIT/200") != std::string::npos);
}

TEST_CASE("Vary matching normalizes whitespace case and field lines", "[proxy][vary]") {
  OriginServer origin([](const OriginRequest& r) { return by_encoding(r, "accept-encoding"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/n");
  CHECK(get(client, url, "gzip, deflate").body() == "variant:gzip, deflate");
  CHECK(get(client, url, "gzip,deflate").body() == "variant:gzip, deflate");
  // Two field lines make one list (RFC 9110 §5.3); the test client would merge them itself.
  std::string split = raw_exchange(
      proxy.port(), "GET " + url + " HTTP/1.1\r\nHost: 127.0.0.1\r\naccept-encoding: gzip\r\n"
                    "ACCEPT-ENCODING: deflate\r\nConnection: close\r\n\r\n");
  CHECK(split.find("\r\n\r\nvariant:gzip, deflate") != std::string::npos);
  CHECK(origin.request_count("/n") == 1);
}

TEST_CASE("a stored variant survives a restart of the proxy", "[proxy][vary]") {
  OriginServer origin([](const OriginRequest& r) { return by_encoding(r, "Accept-Encoding"); });
  TempDir dir;
  const std::string url = origin.url("/r");
  {
    TestProxy proxy(dir.path());
    ProxyClient client(proxy.port());
    get(client, url, "gzip");
    get(client, url, "br");
  }
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  CHECK(get(client, url, "br").body() == "variant:br");
  CHECK(get(client, url, "gzip").body() == "variant:gzip");
  CHECK(origin.request_count("/r") == 2);
}

TEST_CASE("Vary star is never served from the cache", "[proxy][vary]") {
  OriginServer origin([](const OriginRequest& r) { return by_encoding(r, "*"); });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/star");
  get(client, url, "gzip");
  get(client, url, "gzip");
  CHECK(origin.request_count("/star") == 2);
}

TEST_CASE("an unsafe request invalidates every variant of its URL", "[proxy][vary]") {
  OriginServer origin([](const OriginRequest& r) {
    if (r.method == "POST") return make_response(204, "");
    return by_encoding(r, "Accept-Encoding");
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/inv");
  get(client, url, "gzip");
  get(client, url, "br");
  get(client, url, "gzip");
  CHECK(origin.request_count("/inv") == 2);
  CHECK(client.request(http::verb::post, url, {}, "x").result_int() == 204);
  CHECK(get(client, url, "gzip").body() == "variant:gzip");
  CHECK(get(client, url, "br").body() == "variant:br");
  CHECK(origin.request_count("/inv") == 5);  // 2 + the POST + both variants again
}

TEST_CASE("a URL that stops varying replaces its variants", "[proxy][vary]") {
  std::atomic<bool> varies{true};
  OriginServer origin([&varies](const OriginRequest& r) {
    if (varies) return by_encoding(r, "Accept-Encoding");
    return make_response(200, "plain", {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/change");
  get(client, url, "gzip");
  varies = false;
  // A request no variant matches goes to the origin; its plain answer replaces the marker.
  CHECK(get(client, url, "br").body() == "plain");
  CHECK(get(client, url, "gzip").body() == "plain");
  CHECK(origin.request_count("/change") == 2);
}
