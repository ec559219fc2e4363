// Squid-style options that change caching within what RFC 9111 allows, each table against a
// proxy of its own configured with the option: refresh_pattern (heuristic freshness per URL,
// RFC 9111 §4.2.2) and offline_mode (serving stale while disconnected, RFC 9111 §4.2.4).
#include <catch2/catch.hpp>
#include <string>

#include "cache/refresh_patterns.hpp"
#include "conformance/conformance.hpp"
#include "proxy/config.hpp"

using namespace cacheproxy::conformance;

namespace {

const OriginResponse not_modified = answer(304, {{"ETag", "\"o\""}}, "");

// Stores `path` from `response`, then GETs it again: a hit (origin contacted once) when
// `fresh`, else revalidated with If-Modified-Since (the origin answers 304).
Case heuristic_case(std::string rfc, std::string name, std::string path, Fields response,
                    bool fresh) {
  Step second = get().at(path).expect_body("payload");
  if (fresh) {
    second.expect(has("Age")).origin(1);
  } else {
    second.origin(2).origin_got(has("If-Modified-Since"));
  }
  return Case{std::move(rfc), std::move(name),
              {answer(200, std::move(response)), answer(304, {}, "")},
              {get().at(path).origin(1), second}};
}

// refresh_pattern "-i \.css$ 60 20 1440": for .css URLs a heuristic lifetime of 20% of the
// time since Last-Modified, at least 60 minutes, at most 1440 (one day). Elsewhere
// heuristic_percent is 0: no heuristic lifetime at all.
std::vector<Case> refresh_pattern_cases() {
  const std::string rfc = "RFC 9111 §4.2.2 (Squid refresh_pattern)";
  std::vector<Case> cases;
  cases.push_back(heuristic_case(rfc, "a matching URL gets the pattern's heuristic lifetime: a hit",
                                 "/style.css", {{"Last-Modified", "{date:-864000}"}}, true));
  cases.push_back(heuristic_case(rfc, "-i: the pattern matches case-insensitively", "/STYLE.CSS",
                                 {{"Last-Modified", "{date:-864000}"}}, true));
  cases.push_back(heuristic_case(rfc, "a URL no pattern matches keeps the global rule (0%): revalidated",
                                 "/page.html", {{"Last-Modified", "{date:-864000}"}}, false));
  cases.push_back(heuristic_case(rfc, "MIN: modified 10 s ago (20% is 2 s) is fresh for 60 minutes",
                                 "/new.css", {{"Last-Modified", "{date:-10}"}}, true));
  cases.push_back(heuristic_case(rfc, "MAX: the lifetime is capped at one day, a two-day-old response is stale",
                                 "/old.css", {{"Last-Modified", "{date:-8640000}"}, {"Date", "{date:-172800}"}},
                                 false));
  cases.push_back(heuristic_case(rfc, "within MAX: a 12-hour-old response is fresh", "/old.css",
                                 {{"Last-Modified", "{date:-8640000}"}, {"Date", "{date:-43200}"}}, true));
  cases.push_back(heuristic_case("RFC 9111 §4.2.2",
                                 "explicit max-age=0 wins: no heuristic for a matching URL",
                                 "/explicit.css",
                                 {{"Cache-Control", "max-age=0"}, {"Last-Modified", "{date:-864000}"}}, false));
  cases.push_back(heuristic_case("RFC 9111 §4.2.2, §5.3", "a past Expires wins: no heuristic for a matching URL",
                                 "/expired.css",
                                 {{"Expires", "{date:-60}"}, {"Last-Modified", "{date:-864000}"}}, false));
  return cases;
}

Fields stale_with(std::string cache_control) {
  return {{"Cache-Control", std::move(cache_control)}, {"Date", "{date:-200}"}, {"ETag", "\"o\""}};
}

// offline_mode: an unreachable or failing origin lets any stale entry answer, unless the
// response forbids serving it stale.
std::vector<Case> offline_cases() {
  const std::string rfc = "RFC 9111 §4.2.4 (Squid offline_mode)";
  std::vector<Case> cases;
  cases.push_back(Case{rfc, "the origin unreachable: the stale response is served",
                       {answer(200, stale_with("max-age=100"))},
                       {get().origin(1), get().origin_down().expect(200).expect_body("payload")
                                             .expect(has("Age")).origin(1)}});
  cases.push_back(Case{rfc, "the origin answers 503: the stale response is served",
                       {answer(200, stale_with("max-age=100")), answer(503, {}, "down")},
                       {get().origin(1), get().expect(200).expect_body("payload").origin(2)}});
  cases.push_back(Case{rfc + "; RFC 9111 §4.3", "the origin reachable: revalidated as usual",
                       {answer(200, stale_with("max-age=100")), not_modified},
                       {get().origin(1), get().expect(200).expect_body("payload").origin(2)
                                             .origin_got(is("If-None-Match", "\"o\""))}});
  cases.push_back(Case{"RFC 9111 §5.2.2.2, §4.2.4",
                       "must-revalidate is honoured: the origin unreachable gives 504",
                       {answer(200, stale_with("max-age=100, must-revalidate"))},
                       {get().origin(1), get().origin_down().expect(504).origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.2.4, §4.2.4",
                       "no-cache is honoured: the origin unreachable, the stored response is not used",
                       {answer(200, stale_with("no-cache, max-age=3600"))},
                       {get().origin(1), get().origin_down().expect(502).origin(1)}});
  cases.push_back(Case{rfc, "nothing stored and the origin unreachable: 502",
                       {answer(200, {{"Cache-Control", "max-age=3600"}})},
                       {get().origin_down().expect(502).origin(0), get().expect(200).origin(1)}});
  return cases;
}

}  // namespace

TEST_CASE("refresh_pattern: heuristic freshness per URL", "[conformance][proxy-options]") {
  run_cases("refresh-pattern", refresh_pattern_cases(), [](cacheproxy::Config& c) {
    c.heuristic_percent = 0;
    std::string error;
    c.refresh_patterns.push_back(
        *cacheproxy::cache::parse_refresh_pattern("-i \\.css$ 60 20 1440", &error));
  });
}
TEST_CASE("offline_mode: stale responses while disconnected", "[conformance][proxy-options]") {
  run_cases("offline", offline_cases(), [](cacheproxy::Config& c) { c.offline_mode = true; });
}
