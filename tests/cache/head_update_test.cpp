// A HEAD response freshening a stored GET response (RFC 9111 §4.3.5).
#include "cache/head_update.hpp"
#include "cache/header_fields.hpp"

#include <catch2/catch.hpp>

using namespace cacheproxy::cache;

namespace {

const TimePoint kNow = TimePoint{} + std::chrono::hours(24 * 365 * 50);

EntryMeta stored_entry() {
  EntryMeta meta;
  meta.status = 200;
  meta.headers.set(http::field::etag, "\"v1\"");
  meta.headers.set(http::field::last_modified, "Mon, 02 Jan 2006 15:04:05 GMT");
  meta.headers.set(http::field::content_length, "10");
  meta.headers.set(http::field::cache_control, "max-age=0");
  meta.headers.set("X-Old", "kept");
  meta.body_size = 10;
  meta.request_time = kNow - Seconds{100};
  meta.response_time = kNow - Seconds{100};
  return meta;
}

cacheproxy::Fields head(std::initializer_list<std::pair<const char*, const char*>> lines) {
  cacheproxy::Fields f;
  for (const auto& [name, value] : lines) f.insert(name, value);
  return f;
}

}  // namespace

TEST_CASE("a matching HEAD response updates the stored header fields", "[head_update]") {
  auto updated = update_from_head(
      stored_entry(), 200,
      head({{"ETag", "\"v1\""}, {"Content-Length", "10"}, {"Cache-Control", "max-age=60"},
            {"X-New", "added"}}),
      kNow, kNow);
  REQUIRE(updated);
  CHECK(updated->headers[http::field::cache_control] == "max-age=60");
  CHECK(updated->headers["X-New"] == "added");
  CHECK(updated->headers["X-Old"] == "kept");
  CHECK(updated->body_size == 10);
  CHECK(updated->response_time == kNow);
}

TEST_CASE("a HEAD response that differs invalidates the stored response", "[head_update]") {
  struct Row {
    unsigned status;
    cacheproxy::Fields fields;
    bool updates;
  };
  const std::vector<Row> rows{
      {200, head({}), true},  // nothing to compare: same resource as far as we can tell
      {200, head({{"ETag", "\"v2\""}}), false},
      {200, head({{"ETag", "W/\"v1\""}}), false},
      {200, head({{"Content-Length", "11"}}), false},
      {200, head({{"Content-Length", "x"}}), false},
      {200, head({{"Last-Modified", "Tue, 03 Jan 2006 15:04:05 GMT"}}), false},
      {200, head({{"Last-Modified", "Monday, 02-Jan-06 15:04:05 GMT"}}), true},  // same date
      {404, head({{"ETag", "\"v1\""}}), false},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    CHECK(update_from_head(stored_entry(), rows[i].status, rows[i].fields, kNow, kNow)
              .has_value() == rows[i].updates);
  }
}
