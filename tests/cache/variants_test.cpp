// Vary secondary keys and variant keys (RFC 9111 §4.1): cache/variants.*.
#include "cache/header_fields.hpp"
#include "cache/variants.hpp"

#include <catch2/catch.hpp>

using namespace cacheproxy::cache;

namespace {

cacheproxy::Fields fields(std::initializer_list<std::pair<const char*, const char*>> lines) {
  cacheproxy::Fields f;
  for (const auto& [name, value] : lines) f.insert(name, value);
  return f;
}

const TimePoint kNow = TimePoint{} + std::chrono::hours(24 * 365 * 50);

}  // namespace

TEST_CASE("Vary names are lower-cased sorted and unique across lines", "[variants]") {
  auto names = vary_field_names(
      fields({{"Vary", "Accept-Encoding, User-Agent"}, {"vary", "accept-encoding,Accept"}}));
  CHECK(names == std::vector<std::string>{"accept", "accept-encoding", "user-agent"});
  CHECK(vary_field_names(fields({{"Content-Type", "text/plain"}})).empty());
  CHECK(vary_field_names(fields({{"Vary", " , ,"}})).empty());
  CHECK(vary_field_names(fields({{"Vary", "*"}})) == std::vector<std::string>{"*"});
}

TEST_CASE("secondary keys normalize whitespace and combine field lines", "[variants]") {
  const std::vector<std::string> names{"accept-encoding"};
  struct Row {
    cacheproxy::Fields a;
    cacheproxy::Fields b;
    bool same;
  };
  const std::vector<Row> rows{
      {fields({{"Accept-Encoding", "gzip, deflate"}}),
       fields({{"Accept-Encoding", "gzip,deflate"}}), true},
      {fields({{"Accept-Encoding", "gzip,   deflate  "}}),
       fields({{"accept-encoding", "gzip, deflate"}}), true},
      {fields({{"Accept-Encoding", "gzip"}, {"Accept-Encoding", "deflate"}}),
       fields({{"Accept-Encoding", "gzip, deflate"}}), true},
      {fields({{"Accept-Encoding", "gzip"}}), fields({{"Accept-Encoding", "br"}}), false},
      // Order of list members is significant to the origin: not reordered.
      {fields({{"Accept-Encoding", "gzip, br"}}), fields({{"Accept-Encoding", "br, gzip"}}),
       false},
      // Absent differs from present-but-empty (RFC 9111 §4.1).
      {fields({}), fields({{"Accept-Encoding", ""}}), false},
      {fields({}), fields({{"User-Agent", "x"}}), true},  // only nominated fields count
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    CHECK((secondary_key(names, rows[i].a) == secondary_key(names, rows[i].b)) == rows[i].same);
  }
}

TEST_CASE("a marker keeps Vary and a nonce and is recognised", "[variants]") {
  auto response = fields({{"Vary", "Accept-Encoding"}, {"ETag", "\"x\""}});
  EntryMeta marker = make_vary_marker(response, 42, kNow);
  CHECK(is_vary_marker(marker));
  CHECK(marker.body_size == 0);
  CHECK(marker.headers["Vary"] == "Accept-Encoding");
  CHECK(marker.headers.count(http::field::etag) == 0);
  EntryMeta plain;
  plain.status = 200;
  CHECK_FALSE(is_vary_marker(plain));
  CHECK(marker_fits(marker, fields({{"vary", "accept-encoding"}})));
  CHECK_FALSE(marker_fits(marker, fields({{"Vary", "Accept-Encoding, Cookie"}})));
  CHECK_FALSE(marker_fits(marker, fields({})));
}

TEST_CASE("variant keys differ per selected variant and per marker generation", "[variants]") {
  auto response = fields({{"Vary", "Accept-Encoding"}});
  EntryMeta marker = make_vary_marker(response, 1, kNow);
  EntryMeta newer = make_vary_marker(response, 2, kNow);
  const std::string url = "http://example.com/a";
  auto gzip = fields({{"Accept-Encoding", "gzip"}});
  auto gzip_spaced = fields({{"accept-encoding", " gzip "}});
  auto identity = fields({});
  CHECK(variant_key(url, marker, gzip) == variant_key(url, marker, gzip_spaced));
  CHECK(variant_key(url, marker, gzip) != variant_key(url, marker, identity));
  CHECK(variant_key(url, marker, gzip) != variant_key(url, newer, gzip));
  CHECK(variant_key(url, marker, gzip).rfind(url, 0) == 0);  // under the URL key
  CHECK(variant_key(url, marker, gzip) != url);
}

TEST_CASE("every variant key of a URL, of any generation, starts with its variants prefix",
          "[variants]") {
  auto response = fields({{"Vary", "Accept-Encoding"}});
  const std::string url = "http://example.com/a";
  const std::string prefix = variants_prefix(url);
  for (std::uint64_t nonce : {1ull, 2ull, ~0ull}) {
    const EntryMeta marker = make_vary_marker(response, nonce, kNow);
    for (const auto& request : {fields({{"Accept-Encoding", "gzip"}}), fields({})}) {
      CHECK(variant_key(url, marker, request).rfind(prefix, 0) == 0);
    }
  }
  // Neither the URL key itself nor a longer URL sharing its text is under the prefix.
  CHECK(url.rfind(prefix, 0) != 0);
  CHECK(std::string("http://example.com/ab").rfind(prefix, 0) != 0);
  CHECK(variant_key("http://example.com/ab", make_vary_marker(response, 1, kNow), fields({}))
            .rfind(prefix, 0) != 0);
}
