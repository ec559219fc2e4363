// Range requests over sockets (RFC 9110 §14): 206 and 416 from the cache, If-Range, a Range
// miss fetched whole and stored.
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <string>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;

namespace {

std::string alphabet_body() {
  std::string body;
  for (int i = 0; i < 40; ++i) body += static_cast<char>('a' + i % 26);
  return body;  // 40 bytes
}

OriginResponse cacheable_object(const OriginRequest&) {
  return make_response(200, alphabet_body(),
                       {{"Cache-Control", "max-age=3600"},
                        {"Content-Type", "text/plain"},
                        {"ETag", "\"abc\""}});
}

}  // namespace

TEST_CASE("a single range of a cached object is answered 206 from the cache",
          "[proxy][range]") {
  OriginServer origin(cacheable_object);
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/r");
  REQUIRE(client.get(url).body() == alphabet_body());
  Response part = client.request(http::verb::get, url, {{"Range", "bytes=2-5"}});
  CHECK(part.result_int() == 206);
  CHECK(part.body() == "cdef");
  CHECK(part[http::field::content_range] == "bytes 2-5/40");
  Response suffix = client.request(http::verb::get, url, {{"Range", "bytes=-3"}});
  CHECK(suffix.result_int() == 206);
  CHECK(suffix.body() == alphabet_body().substr(37));
  CHECK(origin.request_count("/r") == 1);
  CHECK(proxy.access_log_lines(3).at(1).find("_HIT/206 ") != std::string::npos);
}

TEST_CASE("several ranges are answered as multipart/byteranges", "[proxy][range]") {
  OriginServer origin(cacheable_object);
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/m");
  client.get(url);
  Response parts = client.request(http::verb::get, url, {{"Range", "bytes=0-1, 10-12"}});
  CHECK(parts.result_int() == 206);
  std::string type(parts[http::field::content_type]);
  REQUIRE(type.rfind("multipart/byteranges; boundary=", 0) == 0);
  std::string boundary = type.substr(type.find('=') + 1);
  std::string expected = "\r\n--" + boundary + "\r\nContent-Type: text/plain\r\n" +
                         "Content-Range: bytes 0-1/40\r\n\r\nab" + "\r\n--" + boundary +
                         "\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-12/40\r\n\r\n" +
                         "klm\r\n--" + boundary + "--\r\n";
  CHECK(parts.body() == expected);
  CHECK(origin.request_count("/m") == 1);
}

TEST_CASE("an unsatisfiable range is answered 416 with the length", "[proxy][range]") {
  OriginServer origin(cacheable_object);
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/u");
  client.get(url);
  Response none = client.request(http::verb::get, url, {{"Range", "bytes=40-"}});
  CHECK(none.result_int() == 416);
  CHECK(none[http::field::content_range] == "bytes */40");
  CHECK(none.body().empty());
  // The connection stays usable.
  CHECK(client.get(url).body() == alphabet_body());
}

TEST_CASE("If-Range that does not match gets the whole object", "[proxy][range]") {
  OriginServer origin(cacheable_object);
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/i");
  client.get(url);
  Response whole =
      client.request(http::verb::get, url, {{"Range", "bytes=0-3"}, {"If-Range", "\"old\""}});
  CHECK(whole.result_int() == 200);
  CHECK(whole.body() == alphabet_body());
  Response part =
      client.request(http::verb::get, url, {{"Range", "bytes=0-3"}, {"If-Range", "\"abc\""}});
  CHECK(part.result_int() == 206);
  CHECK(part.body() == "abcd");
}

TEST_CASE("a Range miss fetches the whole object stores it and answers the range",
          "[proxy][range]") {
  OriginServer origin(cacheable_object);
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/miss");
  Response part = client.request(http::verb::get, url, {{"Range", "bytes=4-7"}});
  CHECK(part.result_int() == 206);
  CHECK(part.body() == "efgh");
  CHECK(part[http::field::content_range] == "bytes 4-7/40");
  REQUIRE(origin.requests().size() == 1);
  CHECK(origin.requests().at(0).headers.count(http::field::range) == 0);  // stripped
  CHECK(client.get(url).body() == alphabet_body());
  CHECK(origin.request_count("/miss") == 1);  // the whole object was stored
}

TEST_CASE("a Range beyond range_offset_limit goes to the origin as is", "[proxy][range]") {
  OriginServer origin([](const OriginRequest& r) {
    if (r.headers.count(http::field::range) > 0) {
      return make_response(206, "zz", {{"Content-Range", "bytes 30-31/40"},
                                       {"Cache-Control", "max-age=3600"}});
    }
    return cacheable_object(r);
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.range_offset_limit = 10; });
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/far");
  Response part = client.request(http::verb::get, url, {{"Range", "bytes=30-31"}});
  CHECK(part.result_int() == 206);
  CHECK(part.body() == "zz");
  // A 206 from the origin is never stored as the complete object.
  CHECK(client.get(url).body() == alphabet_body());
  CHECK(origin.request_count("/far") == 2);
}

TEST_CASE("ranges of a large disk entry are read from the store", "[proxy][range]") {
  std::string big;
  for (int i = 0; big.size() < 600 * 1024; ++i) big += fmt::format("{:08}", i);
  OriginServer origin([&big](const OriginRequest&) {
    return make_response(200, big, {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  // A small memory tier: the entry is served from LevelDB, not memory.
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.memory_cache_size = 64 * 1024; });
  ProxyClient client(proxy.port());
  const std::string url = origin.url("/big");
  REQUIRE(client.get(url).body().size() == big.size());
  Response part = client.request(http::verb::get, url, {{"Range", "bytes=300000-300015, -8"}});
  CHECK(part.result_int() == 206);
  CHECK(part.body().find(big.substr(300000, 16)) != std::string::npos);
  CHECK(part.body().find(big.substr(big.size() - 8)) != std::string::npos);
  Response one = client.request(http::verb::get, url, {{"Range", "bytes=262140-262150"}});
  CHECK(one.body() == big.substr(262140, 11));
  CHECK(origin.request_count("/big") == 1);
}
