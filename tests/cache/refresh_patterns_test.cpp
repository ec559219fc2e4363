// Per-URL heuristic freshness (Squid's refresh_pattern) and the heuristic floor.
#include "cache/refresh_patterns.hpp"

#include <catch2/catch.hpp>

using namespace cacheproxy::cache;

namespace {

const TimePoint kNow = TimePoint{} + std::chrono::hours(24 * 365 * 50);

// A 200 received now, last modified `since` before its Date.
EntryMeta modified_ago(Seconds since) {
  EntryMeta meta;
  meta.status = 200;
  meta.request_time = kNow;
  meta.response_time = kNow;
  auto to_date = [](TimePoint t) {
    std::time_t tt = Clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf);
  };
  meta.headers.set(http::field::date, to_date(kNow));
  meta.headers.set(http::field::last_modified, to_date(kNow - since));
  return meta;
}

}  // namespace

TEST_CASE("refresh patterns parse Squid's syntax", "[refresh_pattern]") {
  std::string error;
  auto p = parse_refresh_pattern("-i \\.(css|js)$ 10 50 1440", &error);
  REQUIRE(p);
  CHECK(p->rules.min_lifetime == std::chrono::minutes(10));
  CHECK(p->rules.max_lifetime == std::chrono::minutes(1440));
  CHECK(p->rules.last_modified_factor == Approx(0.5));
  for (const char* bad : {"", "x 1 2", "x 1 2 3 4", "( 1 2 3", "x a 2 3", "x 10 20 5", "x -1 2 3"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(parse_refresh_pattern(bad, &error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("the first matching refresh pattern gives the heuristic rules", "[refresh_pattern]") {
  std::string error;
  std::vector<RefreshPattern> patterns{*parse_refresh_pattern("-i \\.css$ 0 50 1440", &error),
                                       *parse_refresh_pattern("^http://static\\. 5 20 60", &error),
                                       *parse_refresh_pattern(". 0 10 30", &error)};
  HeuristicRules fallback;
  CHECK(heuristic_for(patterns, "http://a/x.CSS", fallback).last_modified_factor == Approx(0.5));
  CHECK(heuristic_for(patterns, "http://static.example/x.css", fallback)
            .last_modified_factor == Approx(0.5));  // first match wins
  CHECK(heuristic_for(patterns, "http://static.example/x.png", fallback).max_lifetime ==
        std::chrono::minutes(60));
  CHECK(heuristic_for(patterns, "http://b/", fallback).max_lifetime == std::chrono::minutes(30));
  CHECK(&heuristic_for({}, "http://b/", fallback) == &fallback);
}

TEST_CASE("heuristic lifetime is percent of age since modification between min and max",
          "[refresh_pattern]") {
  std::string error;
  const HeuristicRules rules = parse_refresh_pattern(". 60 50 1440", &error)->rules;
  // 50% of 10 hours = 5 hours.
  CHECK(freshness_lifetime(modified_ago(std::chrono::hours(10)), rules).lifetime ==
        std::chrono::hours(5));
  // 50% of 1 minute is below min: min (60 minutes).
  CHECK(freshness_lifetime(modified_ago(std::chrono::minutes(1)), rules).lifetime ==
        std::chrono::minutes(60));
  // 50% of 10 days is above max: max (1 day).
  CHECK(freshness_lifetime(modified_ago(std::chrono::hours(240)), rules).lifetime ==
        std::chrono::hours(24));
  // Percent 0 with a min: the min alone.
  const HeuristicRules floor_only = parse_refresh_pattern(". 30 0 60", &error)->rules;
  CHECK(freshness_lifetime(modified_ago(std::chrono::hours(10)), floor_only).lifetime ==
        std::chrono::minutes(30));
}

TEST_CASE("refresh_pattern: an invalid regular expression is refused with regcomp's reason",
          "[refresh_pattern]") {
  std::string error;
  CHECK_FALSE(cacheproxy::cache::parse_refresh_pattern("([a- 10 50 1440", &error));
  CHECK(error.find("invalid regular expression") != std::string::npos);
}
