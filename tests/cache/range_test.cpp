// Range and If-Range against a complete stored response (RFC 9110 §14, §13.1.5).
#include "cache/range.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

using namespace cacheproxy::cache;

namespace {

EntryMeta stored(std::initializer_list<std::pair<const char*, const char*>> lines) {
  EntryMeta meta;
  meta.status = 200;
  for (const auto& [name, value] : lines) meta.headers.insert(name, value);
  return meta;
}

cacheproxy::Fields request(std::initializer_list<std::pair<const char*, const char*>> lines) {
  cacheproxy::Fields f;
  for (const auto& [name, value] : lines) f.insert(name, value);
  return f;
}

}  // namespace

TEST_CASE("byte range sets are parsed and clamped to the length", "[range]") {
  using R = std::vector<ByteRange>;
  struct Row {
    const char* value;
    std::optional<R> expected;
  };
  const std::vector<Row> rows{
      {"bytes=0-99", R{{0, 99}}},
      {"bytes=0-", R{{0, 999}}},
      {"bytes=-100", R{{900, 999}}},
      {"bytes=-5000", R{{0, 999}}},         // suffix longer than the body: all of it
      {"bytes=990-5000", R{{990, 999}}},    // last clamped
      {"bytes=0-0, -1", R{{0, 0}, {999, 999}}},
      {"BYTES = 10-19 ,20-29", R{{10, 19}, {20, 29}}},  // unit case, whitespace
      {"bytes=1000-", R{}},                 // starts past the end: unsatisfiable
      {"bytes=1000-1001, 2000-", R{}},
      {"bytes=-0", R{}},
      {"bytes=1000-, 5-9", R{{5, 9}}},      // the satisfiable ones are kept
      {"bytes=9-5", std::nullopt},          // invalid: ignored
      {"bytes=a-b", std::nullopt},
      {"bytes=", std::nullopt},
      {"bytes=5", std::nullopt},
      {"items=0-5", std::nullopt},          // unknown unit: ignored
      {"0-5", std::nullopt},
      {"bytes=-", std::nullopt},
      {"bytes=+1-5", std::nullopt},
  };
  for (const Row& row : rows) {
    INFO(row.value);
    CHECK(parse_byte_ranges(row.value, 1000) == row.expected);
  }
  // An empty representation satisfies no range.
  CHECK(parse_byte_ranges("bytes=0-", 0) == R{});
  CHECK(parse_byte_ranges("bytes=-5", 0) == R{});
}

TEST_CASE("too many ranges are ignored", "[range]") {
  std::string value = "bytes=0-0";
  for (std::size_t i = 1; i <= kMaxRanges; ++i) value += fmt::format(",{}-{}", i, i);
  CHECK_FALSE(parse_byte_ranges(value, 1000).has_value());
}

TEST_CASE("evaluate_range decides 206 416 or the full response", "[range]") {
  const EntryMeta entry = stored({{"ETag", "\"strong\""},
                                  {"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"},
                                  {"Date", "Tue, 03 Jan 2006 15:04:05 GMT"}});
  struct Row {
    cacheproxy::Fields req;
    RangeOutcome outcome;
  };
  const std::vector<Row> rows{
      {request({}), RangeOutcome::full},
      {request({{"Range", "bytes=0-9"}}), RangeOutcome::partial},
      {request({{"Range", "bytes=5000-"}}), RangeOutcome::unsatisfiable},
      {request({{"Range", "bytes=9-1"}}), RangeOutcome::full},
      {request({{"Range", "bytes=0-9"}, {"If-Range", "\"strong\""}}), RangeOutcome::partial},
      {request({{"Range", "bytes=0-9"}, {"If-Range", "\"other\""}}), RangeOutcome::full},
      {request({{"Range", "bytes=0-9"}, {"If-Range", "W/\"strong\""}}), RangeOutcome::full},
      {request({{"Range", "bytes=0-9"}, {"If-Range", "Mon, 02 Jan 2006 15:04:05 GMT"}}),
       RangeOutcome::partial},
      {request({{"Range", "bytes=0-9"}, {"If-Range", "Sun, 01 Jan 2006 15:04:05 GMT"}}),
       RangeOutcome::full},
      {request({{"Range", "bytes=0-9"}, {"If-Range", "garbage"}}), RangeOutcome::full},
      // Two Range fields are not one valid value.
      {request({{"Range", "bytes=0-9"}, {"Range", "bytes=20-29"}}), RangeOutcome::full},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    CHECK(evaluate_range(rows[i].req, entry, 1000).outcome == rows[i].outcome);
  }
}

TEST_CASE("If-Range needs a strong validator in the stored response", "[range]") {
  auto req = request({{"Range", "bytes=0-9"}, {"If-Range", "W/\"w\""}});
  CHECK(evaluate_range(req, stored({{"ETag", "W/\"w\""}}), 100).outcome == RangeOutcome::full);
  auto by_date = request({{"Range", "bytes=0-9"}, {"If-Range", "Mon, 02 Jan 2006 15:04:05 GMT"}});
  // Last-Modified equal to Date is weak (RFC 9110 §8.8.2.2).
  CHECK(evaluate_range(by_date,
                       stored({{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"},
                               {"Date", "Mon, 02 Jan 2006 15:04:05 GMT"}}),
                       100)
            .outcome == RangeOutcome::full);
  // RFC 9110 §8.8.2.2: a cache takes Last-Modified as strong only 60 s or more before Date.
  CHECK(evaluate_range(by_date,
                       stored({{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"},
                               {"Date", "Mon, 02 Jan 2006 15:05:04 GMT"}}),
                       100)
            .outcome == RangeOutcome::full);
  CHECK(evaluate_range(by_date,
                       stored({{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"},
                               {"Date", "Mon, 02 Jan 2006 15:05:05 GMT"}}),
                       100)
            .outcome == RangeOutcome::partial);
  // Only complete 200 responses are cut into ranges.
  EntryMeta not_ok = stored({});
  not_ok.status = 404;
  CHECK(evaluate_range(request({{"Range", "bytes=0-9"}}), not_ok, 100).outcome ==
        RangeOutcome::full);
}

TEST_CASE("Content-Range values and the lowest range start", "[range]") {
  CHECK(content_range({0, 99}, 1000) == "bytes 0-99/1000");
  CHECK(unsatisfied_range(1000) == "bytes */1000");
  CHECK(lowest_range_start("bytes=500-600, 100-200") == 100u);
  CHECK(lowest_range_start("bytes=0-") == 0u);
  CHECK_FALSE(lowest_range_start("bytes=-500").has_value());
  CHECK_FALSE(lowest_range_start("items=0-1").has_value());
}

TEST_CASE("If-Range by date without a stored Date: the time of receipt stands in",
          "[range]") {
  // RFC 9110 §6.6.1: the recipient records when a response without Date was received; the
  // origin sent it no later than that, so a Last-Modified a minute or more before it is strong.
  const auto by_date =
      request({{"Range", "bytes=0-9"}, {"If-Range", "Mon, 02 Jan 2006 15:04:05 GMT"}});
  const TimePoint modified = *parse_http_date("Mon, 02 Jan 2006 15:04:05 GMT");
  struct Row {
    const char* what;
    std::vector<std::pair<const char*, const char*>> fields;
    TimePoint received;
    RangeOutcome outcome;
  };
  const std::vector<Row> rows{
      {"received a day later", {{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}},
       modified + std::chrono::hours(24), RangeOutcome::partial},
      {"received exactly 60 s later", {{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}},
       modified + Seconds{60}, RangeOutcome::partial},
      {"received 59 s later", {{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}},
       modified + Seconds{59}, RangeOutcome::full},
      {"an invalid Date counts as absent",
       {{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}, {"Date", "yesterday"}},
       modified + std::chrono::hours(24), RangeOutcome::partial},
      {"a valid Date wins over the time of receipt",
       {{"Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT"}, {"Date", "Mon, 02 Jan 2006 15:04:05 GMT"}},
       modified + std::chrono::hours(24), RangeOutcome::full},
      {"another date than Last-Modified never holds",
       {{"Last-Modified", "Sun, 01 Jan 2006 15:04:05 GMT"}},
       modified + std::chrono::hours(24), RangeOutcome::full},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    EntryMeta entry = stored({});
    for (const auto& [name, value] : row.fields) entry.headers.insert(name, value);
    entry.response_time = row.received;
    CHECK(evaluate_range(by_date, entry, 100).outcome == row.outcome);
    // A response still arriving is judged the same way, with its time of receipt.
    CHECK(evaluate_range(by_date, 200, entry.headers, 100, row.received).outcome == row.outcome);
  }
}
