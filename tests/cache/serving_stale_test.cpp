// When a stale entry may answer (RFC 9111 §4.2.4, RFC 5861): cache/serving_stale.*.
#include "cache/header_fields.hpp"
#include "cache/serving_stale.hpp"

#include <catch2/catch.hpp>

using namespace cacheproxy::cache;

namespace {

const TimePoint kNow = TimePoint{} + std::chrono::hours(24 * 365 * 50);

// A stored 200 received `age` ago with the given Cache-Control.
EntryMeta entry(std::string_view cache_control, Seconds age) {
  EntryMeta meta;
  meta.status = 200;
  if (!cache_control.empty()) meta.headers.set(http::field::cache_control, cache_control);
  meta.headers.set(http::field::etag, "\"v1\"");
  meta.request_time = kNow - age;
  meta.response_time = kNow - age;
  return meta;
}

struct Row {
  const char* response_cc;
  int age;
  const char* request_cc;  // empty: none
  bool allowed;
};

bool swr(const Row& row) {
  cacheproxy::Fields request;
  if (*row.request_cc) request.set(http::field::cache_control, row.request_cc);
  return stale_while_revalidate_allowed({http::verb::get, request},
                                        entry(row.response_cc, Seconds{row.age}), kNow, {});
}

bool sie(const Row& row, bool offline) {
  cacheproxy::Fields request;
  if (*row.request_cc) request.set(http::field::cache_control, row.request_cc);
  return stale_if_error_allowed({http::verb::get, request},
                                entry(row.response_cc, Seconds{row.age}), kNow, {}, offline);
}

}  // namespace

TEST_CASE("staleness is age past the freshness lifetime", "[serving_stale]") {
  CHECK(staleness(entry("max-age=10", Seconds{25}), kNow, {}) == Seconds{15});
  CHECK(staleness(entry("max-age=100", Seconds{25}), kNow, {}) == Seconds{0});
}

TEST_CASE("stale-while-revalidate window and its prohibitions", "[serving_stale]") {
  const std::vector<Row> rows{
      {"max-age=10, stale-while-revalidate=60", 30, "", true},
      {"max-age=10, stale-while-revalidate=60", 70, "", true},   // 60 s stale: at the edge
      {"max-age=10, stale-while-revalidate=60", 71, "", false},  // past the window
      {"max-age=10", 30, "", false},                             // no directive
      {"max-age=10, stale-while-revalidate=abc", 11, "", false},  // malformed: 0
      {"max-age=10, stale-while-revalidate=60, must-revalidate", 30, "", false},
      {"max-age=10, stale-while-revalidate=60, proxy-revalidate", 30, "", false},
      {"s-maxage=10, stale-while-revalidate=60", 30, "", false},
      {"max-age=10, stale-while-revalidate=60, no-cache", 30, "", false},
      {"max-age=10, stale-while-revalidate=60", 30, "no-cache", false},
      {"max-age=10, stale-while-revalidate=60", 30, "min-fresh=5", false},
      {"max-age=10, stale-while-revalidate=60", 30, "max-age=20", false},
      {"max-age=10, stale-while-revalidate=60", 30, "max-age=40", true},
      {"MAX-AGE=10, Stale-While-Revalidate=60", 30, "", true},  // names case-insensitive
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i << ": " << rows[i].response_cc << " / " << rows[i].request_cc);
    CHECK(swr(rows[i]) == rows[i].allowed);
  }
}

TEST_CASE("stale-if-error window from either side and offline mode", "[serving_stale]") {
  struct OfflineRow {
    Row row;
    bool offline_allowed;
  };
  const std::vector<OfflineRow> rows{
      {{"max-age=10, stale-if-error=60", 30, "", true}, true},
      {{"max-age=10, stale-if-error=60", 71, "", false}, true},
      {{"max-age=10", 30, "", false}, true},
      {{"max-age=10", 30, "stale-if-error=60", true}, true},  // RFC 5861 §4: request side
      {{"max-age=10, stale-if-error=5", 30, "stale-if-error=60", true}, true},
      {{"max-age=10, stale-if-error=60, must-revalidate", 30, "", false}, false},
      {{"max-age=10, proxy-revalidate", 30, "", false}, false},
      {{"s-maxage=10", 30, "", false}, false},
      {{"max-age=10, no-cache", 30, "", false}, false},
      // RFC 9111 §5.2.2.4: served without Set-Cookie, the response is not forbidden.
      {{"max-age=10, no-cache=\"Set-Cookie\"", 30, "", false}, true},
      {{"max-age=10, stale-if-error=60", 30, "no-cache", false}, false},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i << ": " << rows[i].row.response_cc << " / " << rows[i].row.request_cc);
    CHECK(sie(rows[i].row, false) == rows[i].row.allowed);
    CHECK(sie(rows[i].row, true) == rows[i].offline_allowed);
  }
}

TEST_CASE("an unreachable origin gives 504 for a stale entry that must be revalidated",
          "[serving_stale]") {
  struct Case {
    const char* response_cc;
    int age;
    bool gateway_timeout;
  };
  const std::vector<Case> rows{
      {"max-age=10, must-revalidate", 30, true},
      {"max-age=10, MUST-REVALIDATE", 30, true},
      {"max-age=10, proxy-revalidate", 30, true},  // RFC 9111 §5.2.2.8: a shared cache
      {"s-maxage=10", 30, true},                   // §5.2.2.10: implies proxy-revalidate
      {"max-age=10, must-revalidate", 10, true},   // age equal to the lifetime: stale
      {"max-age=10, must-revalidate", 5, false},   // fresh: not this rule's case
      {"s-maxage=100, max-age=0", 30, false},      // fresh by s-maxage
      {"max-age=10", 30, false},                   // may be stale: the connect error stands
      {"max-age=10, no-cache", 30, false},         // no-cache alone does not ask for 504
      {"max-age=10, stale-if-error=60, must-revalidate", 30, true},
  };
  for (const Case& row : rows) {
    INFO(row.response_cc << " at age " << row.age);
    CHECK(gateway_timeout_when_unreachable(entry(row.response_cc, Seconds{row.age}), kNow, {}) ==
          row.gateway_timeout);
  }
}
