// The memory hit's hand-built header (proxy/whole_object_response.hpp) must say what Beast's
// serializer says for the same stored response: parsed back by Beast, every stored field in
// order, one Age, one Content-Length, the proxy's Via after the stored ones, and keep-alive
// as the client's version expects.
#include "proxy/whole_object_response.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "cache/cached_object.hpp"
#include "cache/header_fields.hpp"

namespace http = boost::beast::http;
using namespace cacheproxy;

namespace {

cache::CachedObjectPtr sample_object() {
  cache::EntryMeta meta;
  meta.status = 200;
  meta.headers.insert("Content-Type", "text/html; charset=utf-8");
  meta.headers.insert("Via", "1.1 upstream-a");
  meta.headers.insert("Set-Cookie", "a=1");
  meta.headers.insert("X-Unknown-Field", "kept as received");
  meta.headers.insert("Set-Cookie", "b=2");
  meta.headers.insert("Age", "100");             // replaced by the served response's own
  meta.headers.insert("Content-Length", "9999");  // replaced by the body's real size
  meta.headers.insert("Via", "1.0 upstream-b");
  meta.body_size = 11;
  return cache::make_cached_object(meta, "hello world");
}

http::response<http::string_body, cacheproxy::Fields> parse(const std::string& header,
                                                            bool head_only = false) {
  http::response_parser<http::string_body, cacheproxy::FieldsAllocator<char>> parser;
  parser.skip(head_only);
  boost::system::error_code ec;
  parser.eager(true);
  parser.put(boost::asio::buffer(header), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(parser.is_header_done());
  return parser.release();
}

std::vector<std::string> values(const http::response<http::string_body, cacheproxy::Fields>& res,
                                std::string_view name) {
  std::vector<std::string> out;
  for (const auto& field : res.base())
    if (boost::beast::iequals(field.name_string(), name)) out.emplace_back(field.value());
  return out;
}

}  // namespace

TEST_CASE("whole-object header: stored fields, one Age and Content-Length, Via in order",
          "[whole_object_response]") {
  auto object = sample_object();
  WholeObjectResponse response;
  response.version = 11;
  response.age = cache::Seconds(42);
  response.keep_alive = true;
  response.visible_hostname = "gateway";
  std::string header = whole_object_header(*object, response);
  CHECK(header.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  auto res = parse(header, true);
  CHECK(res.result_int() == 200);
  CHECK(values(res, "Age") == std::vector<std::string>{"42"});
  CHECK(values(res, "Content-Length") == std::vector<std::string>{"11"});
  CHECK(values(res, "Set-Cookie") == std::vector<std::string>{"a=1", "b=2"});
  CHECK(values(res, "X-Unknown-Field") == std::vector<std::string>{"kept as received"});
  CHECK(values(res, "Content-Type") == std::vector<std::string>{"text/html; charset=utf-8"});
  std::vector<std::string> via = values(res, "Via");
  REQUIRE(via.size() == 3);
  CHECK(via[0] == "1.1 upstream-a");
  CHECK(via[1] == "1.0 upstream-b");
  CHECK(via[2].rfind("1.1 gateway (cacheproxy/", 0) == 0);
  CHECK(res.keep_alive());
  CHECK(values(res, "Connection").empty());
}

TEST_CASE("whole-object header: connection handling per client version",
          "[whole_object_response]") {
  auto object = sample_object();
  WholeObjectResponse response;
  response.visible_hostname = "gateway";
  SECTION("HTTP/1.1, closing") {
    response.version = 11;
    response.keep_alive = false;
    auto res = parse(whole_object_header(*object, response), true);
    CHECK_FALSE(res.keep_alive());
    CHECK(values(res, "Connection") == std::vector<std::string>{"close"});
  }
  SECTION("HTTP/1.0, keeping the connection") {
    response.version = 10;
    response.keep_alive = true;
    std::string header = whole_object_header(*object, response);
    CHECK(header.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    auto res = parse(header, true);
    CHECK(res.keep_alive());
    CHECK(values(res, "Connection") == std::vector<std::string>{"keep-alive"});
  }
  SECTION("HTTP/1.0, closing") {
    response.version = 10;
    response.keep_alive = false;
    auto res = parse(whole_object_header(*object, response), true);
    CHECK_FALSE(res.keep_alive());
    CHECK(values(res, "Connection").empty());
  }
}

TEST_CASE("whole-object header: a status without a stored reason keeps its code",
          "[whole_object_response]") {
  cache::EntryMeta meta;
  meta.status = 203;
  auto object = cache::make_cached_object(meta, "");
  WholeObjectResponse response;
  response.visible_hostname = "gateway";
  std::string header = whole_object_header(*object, response);
  CHECK(header.rfind("HTTP/1.1 203 Non-Authoritative Information\r\n", 0) == 0);
  CHECK(parse(header, true).result_int() == 203);
}
