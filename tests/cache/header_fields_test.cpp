// FieldsArena and FieldsAllocator (cache/header_fields.hpp): a request parsed with a
// connection's arena keeps its target and fields in the block the thread lends, gives the
// block back when the request is gone, and copies of its fields live on their own.
#include "cache/header_fields.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

namespace http = boost::beast::http;
using cacheproxy::Fields;
using cacheproxy::FieldsAllocator;
using cacheproxy::FieldsArena;

namespace {

using Parser = http::request_parser<http::empty_body, FieldsAllocator<char>>;

// A browser's request, about 700 bytes of header.
const std::string kBrowserRequest =
    "GET http://www.example.test/articles/2026/12/a-long-path.html?utm_source=feed HTTP/1.1\r\n"
    "Host: www.example.test\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-GB,en;q=0.7,de;q=0.3\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: http://www.example.test/\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=0123456789abcdef; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Priority: u=0, i\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "\r\n";

std::unique_ptr<Parser> parse(FieldsArena& arena, const std::string& request) {
  auto parser = std::make_unique<Parser>(std::piecewise_construct, std::make_tuple(),
                                         std::make_tuple(FieldsAllocator<char>(&arena)));
  boost::system::error_code ec;
  parser->put(boost::asio::buffer(request), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(parser->is_header_done());
  return parser;
}

}  // namespace

TEST_CASE("a request's target and fields live in the block its connection's arena is lent",
          "[header_fields]") {
  FieldsArena arena;
  CHECK_FALSE(arena.holds_block());  // an idle connection holds none
  auto parser = parse(arena, kBrowserRequest);
  const auto& request = parser->get();
  CHECK(request.target() ==
        "http://www.example.test/articles/2026/12/a-long-path.html?utm_source=feed");
  CHECK(request[http::field::user_agent] ==
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
  REQUIRE(arena.holds_block());
  CHECK(arena.owns(request.target().data()));
  int fields = 0;
  for (const auto& field : request) {
    CHECK(arena.owns(field.name_string().data()));
    CHECK(arena.owns(field.value().data()));
    ++fields;
  }
  CHECK(fields == 12);
  // The request is gone: so is the block, back to the thread's pool for the next request.
  parser.reset();
  CHECK_FALSE(arena.holds_block());
}

TEST_CASE("the next request on the thread reuses the block the last one gave back",
          "[header_fields]") {
  FieldsArena first;
  auto a = parse(first, kBrowserRequest);
  const void* block_start = a->get().target().data();
  a.reset();
  FieldsArena second;  // another connection of the same thread
  auto b = parse(second, kBrowserRequest);
  CHECK(b->get().target().data() == block_start);
}

TEST_CASE("fields larger than the block come from the heap and still parse whole",
          "[header_fields]") {
  FieldsArena arena;
  const std::string cookie(3 * FieldsArena::kBlockBytes, 'c');
  auto parser = parse(arena, "GET http://a.test/ HTTP/1.1\r\nHost: a.test\r\nCookie: " +
                                 cookie + "\r\nAccept: */*\r\n\r\n");
  const auto& request = parser->get();
  CHECK(request[http::field::cookie] == cookie);
  CHECK_FALSE(arena.owns(request[http::field::cookie].data()));
  CHECK(request[http::field::accept] == "*/*");
  CHECK(arena.owns(request[http::field::accept].data()));
  parser.reset();
  CHECK_FALSE(arena.holds_block());
}

TEST_CASE("a copy of a request's fields does not use the connection's arena",
          "[header_fields]") {
  auto arena = std::make_unique<FieldsArena>();
  auto parser = parse(*arena, kBrowserRequest);
  const Fields copy = parser->get().base();
  CHECK_FALSE(arena->owns(copy[http::field::host].data()));
  CHECK(copy.get_allocator() == FieldsAllocator<char>());
  // It outlives the request and the connection (a background revalidation keeps one).
  parser.reset();
  arena.reset();
  CHECK(copy[http::field::host] == "www.example.test");
  CHECK(copy[http::field::cache_control] == "no-cache");
}
