#include "cache/header_fields.hpp"
#include "cache/invalidation.hpp"

#include <catch2/catch.hpp>

using namespace cacheproxy::cache;
namespace http = boost::beast::http;

TEST_CASE("unsafe methods invalidate the target and same-origin Location and Content-Location",
          "[invalidation]") {
  struct Row {
    const char* location;
    const char* content_location;
    std::vector<std::string> keys;
  };
  const char* target = "http://Example.test/items?id=1";
  for (const Row& row : {
           Row{nullptr, nullptr, {"http://example.test/items?id=1"}},
           // RFC 9111 §4.4: relative references resolve against the target URI.
           Row{"/items/7",
               nullptr,
               {"http://example.test/items?id=1", "http://example.test/items/7"}},
           Row{nullptr,
               "http://example.test:80/list",
               {"http://example.test/items?id=1", "http://example.test/list"}},
           Row{"/a",
               "/b",
               {"http://example.test/items?id=1", "http://example.test/a",
                "http://example.test/b"}},
           // Another origin (host, port or scheme) is never invalidated.
           Row{"http://other.test/items/7", nullptr, {"http://example.test/items?id=1"}},
           Row{"http://example.test:8080/x", nullptr, {"http://example.test/items?id=1"}},
           Row{"https://example.test/x", nullptr, {"http://example.test/items?id=1"}},
           // Malformed values are ignored; duplicates appear once.
           Row{"http://[bad", nullptr, {"http://example.test/items?id=1"}},
           Row{"items?id=1", nullptr, {"http://example.test/items?id=1"}},
       }) {
    cacheproxy::Fields response;
    if (row.location) response.set(http::field::location, row.location);
    if (row.content_location) response.set(http::field::content_location, row.content_location);
    INFO((row.location ? row.location : "-")
         << " " << (row.content_location ? row.content_location : "-"));
    CHECK(invalidated_keys(target, response) == row.keys);
  }
  CHECK(invalidated_keys("not a url", cacheproxy::Fields{}).empty());
}
