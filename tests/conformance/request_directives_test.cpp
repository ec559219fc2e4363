// RFC 9111 §5.2.1 (request directives) and §5.4 (Pragma), over sockets.
#include <catch2/catch.hpp>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

const OriginResponse fresh_with_etag =
    answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"e\""}, {"Date", "{date:0}"}});
const OriginResponse not_modified = answer(304, {{"ETag", "\"e\""}}, "");
// Fresh for an hour, already 100 s old.
const OriginResponse aged =
    answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"e\""}, {"Date", "{date:-100}"}});
// Stale by 100 s (max-age 100, 200 s old).
Fields stale_fields(std::string extra = {}) {
  std::string cc = "max-age=100";
  if (!extra.empty()) cc += ", " + extra;
  return {{"Cache-Control", cc}, {"ETag", "\"e\""}, {"Date", "{date:-200}"}};
}

// The second request carries `request`: it must be served from the cache.
Case served(std::string rfc, std::string name, OriginResponse first, Fields request) {
  Step second = get().expect_body("payload").expect(has("Age")).origin(1);
  second.headers = std::move(request);
  return Case{std::move(rfc), std::move(name), {std::move(first)}, {get().origin(1), second}};
}

// The second request carries `request`: the cache must ask the origin (conditionally).
Case revalidated(std::string rfc, std::string name, OriginResponse first, Fields request) {
  Step second = get().expect_body("payload").origin(2).origin_got(is("If-None-Match", "\"e\""));
  second.headers = std::move(request);
  return Case{std::move(rfc), std::move(name), {std::move(first), not_modified},
              {get().origin(1), second}};
}

std::vector<Case> max_age_cases() {
  std::vector<Case> cases;
  for (const std::string v : {"max-age=0", "MAX-AGE=0", "max-age=50", "max-age=abc", "max-age=-1",
                              "max-age=", "max-age=50, max-age=3600"}) {
    cases.push_back(revalidated("RFC 9111 §5.2.1.1, §1.2.2",
                                "request " + v + " rejects a 100 s old response", aged,
                                {{"Cache-Control", v}}));
  }
  for (const std::string v : {"max-age=3600", "max-age=130", "Max-Age=1000"}) {
    cases.push_back(served("RFC 9111 §5.2.1.1", "request " + v + " accepts a 100 s old response",
                           aged, {{"Cache-Control", v}}));
  }
  cases.push_back(Case{"RFC 9111 §5.2.1.1", "max-age=0 without a validator fetches anew",
                       {answer(200, {{"Cache-Control", "max-age=3600"}, {"Date", "{date:-100}"}}, "one"),
                        answer(200, {{"Cache-Control", "max-age=3600"}}, "two")},
                       {get().origin(1), get().with("Cache-Control", "max-age=0").expect_body("two").origin(2),
                        get().expect_body("two").origin(2)}});
  return cases;
}

std::vector<Case> max_stale_cases() {
  std::vector<Case> cases;
  for (const std::string v : {"max-stale", "max-stale=1000", "MAX-STALE=1000", "max-stale=\"1000\""}) {
    cases.push_back(served("RFC 9111 §5.2.1.2", "request " + v + " accepts a response 100 s stale",
                           answer(200, stale_fields()), {{"Cache-Control", v}}));
  }
  for (const std::string v : {"max-stale=50", "max-stale=abc", "max-stale=0", "max-stale=-1"}) {
    cases.push_back(revalidated("RFC 9111 §5.2.1.2, §1.2.2",
                                "request " + v + " does not accept a response 100 s stale",
                                answer(200, stale_fields()), {{"Cache-Control", v}}));
  }
  for (const std::string forbid : {"must-revalidate", "proxy-revalidate", "s-maxage=100",
                                   "Must-Revalidate"}) {
    cases.push_back(revalidated("RFC 9111 §5.2.2.2, §5.2.2.8, §5.2.2.10, §4.2.4",
                                "max-stale cannot override " + forbid,
                                answer(200, stale_fields(forbid)), {{"Cache-Control", "max-stale"}}));
  }
  cases.push_back(revalidated("RFC 9111 §5.2.1.2, §5.2.1.3",
                              "max-stale with min-fresh: a stale response is not acceptable",
                              answer(200, stale_fields()),
                              {{"Cache-Control", "max-stale=1000, min-fresh=1"}}));
  cases.push_back(revalidated("RFC 9111 §5.2.1.2, §5.2.2.4",
                              "max-stale does not bypass response no-cache",
                              answer(200, stale_fields("no-cache")), {{"Cache-Control", "max-stale"}}));
  return cases;
}

std::vector<Case> min_fresh_cases() {
  std::vector<Case> cases;
  for (const std::string v : {"min-fresh=60", "min-fresh=3400", "min-fresh=abc", "MIN-FRESH=10"}) {
    cases.push_back(served("RFC 9111 §5.2.1.3, §1.2.2",
                           "request " + v + ": the response stays fresh long enough (or 0)",
                           aged, {{"Cache-Control", v}}));
  }
  for (const std::string v : {"min-fresh=3550", "min-fresh=7200", "min-fresh=60, min-fresh=7200"}) {
    cases.push_back(revalidated("RFC 9111 §5.2.1.3",
                                "request " + v + ": the response would not stay fresh long enough",
                                aged, {{"Cache-Control", v}}));
  }
  return cases;
}

std::vector<Case> no_cache_cases() {
  std::vector<Case> cases;
  for (const std::string v : {"no-cache", "NO-CACHE", "no-cache, max-stale", "max-age=3600, no-cache",
                              "no-cache=\"foo\""}) {
    cases.push_back(revalidated("RFC 9111 §5.2.1.4",
                                "request Cache-Control: " + v + " revalidates a fresh response",
                                fresh_with_etag, {{"Cache-Control", v}}));
  }
  for (const std::string v : {"no-cache", "NO-CACHE", "foo, no-cache"}) {
    cases.push_back(revalidated("RFC 9111 §5.4",
                                "Pragma: " + v + " without Cache-Control revalidates",
                                fresh_with_etag, {{"Pragma", v}}));
  }
  cases.push_back(served("RFC 9111 §5.4", "Pragma: no-cache is ignored when Cache-Control is present",
                         fresh_with_etag, {{"Pragma", "no-cache"}, {"Cache-Control", "max-age=3600"}}));
  cases.push_back(served("RFC 9111 §5.4", "an unknown Pragma is ignored", fresh_with_etag,
                         {{"Pragma", "foo"}}));
  cases.push_back(Case{"RFC 9111 §5.2.1.4", "request no-cache without a stored validator fetches anew",
                       {answer(200, {{"Cache-Control", "max-age=3600"}}, "one"),
                        answer(200, {{"Cache-Control", "max-age=3600"}}, "two")},
                       {get().origin(1), get().with("Cache-Control", "no-cache").expect_body("two").origin(2),
                        get().expect_body("two").origin(2)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.4, §4.3.3", "request no-cache: a 200 replaces the stored response",
                       {fresh_with_etag,
                        answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"f\""}}, "newer")},
                       {get().origin(1), get().with("Cache-Control", "no-cache").expect_body("newer").origin(2),
                        get().expect_body("newer").origin(2)}});
  return cases;
}

std::vector<Case> store_and_only_if_cached_cases() {
  std::vector<Case> cases;
  cases.push_back(Case{"RFC 9111 §5.2.1.7", "only-if-cached with nothing stored: 504, origin untouched",
                       {fresh_with_etag},
                       {get().with("Cache-Control", "only-if-cached").expect(504).origin(0)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.7", "only-if-cached with a fresh response: served",
                       {fresh_with_etag},
                       {get().origin(1), get().with("Cache-Control", "only-if-cached")
                                             .expect(200).expect_body("payload").origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.7", "ONLY-IF-CACHED in capitals",
                       {fresh_with_etag},
                       {get().with("Cache-Control", "ONLY-IF-CACHED").expect(504).origin(0)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.7, §4.2.4",
                       "only-if-cached with a stale response: 504, no revalidation",
                       {answer(200, stale_fields())},
                       {get().origin(1), get().with("Cache-Control", "only-if-cached").expect(504).origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.7, §5.2.1.2",
                       "only-if-cached with max-stale: the stale response is served",
                       {answer(200, stale_fields())},
                       {get().origin(1), get().with("Cache-Control", "only-if-cached, max-stale")
                                             .expect(200).expect_body("payload").origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.7", "only-if-cached after a no-store response: 504",
                       {answer(200, {{"Cache-Control", "no-store"}})},
                       {get().origin(1), get().with("Cache-Control", "only-if-cached").expect(504).origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.7, §5.2.2.4",
                       "only-if-cached with a no-cache response: 504 (it needs revalidation)",
                       {answer(200, {{"Cache-Control", "no-cache"}, {"ETag", "\"e\""}})},
                       {get().origin(1), get().with("Cache-Control", "only-if-cached").expect(504).origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.1.7", "HEAD with only-if-cached and nothing stored: 504",
                       {fresh_with_etag},
                       {head().with("Cache-Control", "only-if-cached").expect(504).origin(0)}});
  for (const std::string v : {"no-store", "NO-STORE"}) {
    cases.push_back(Case{"RFC 9111 §5.2.1.5",
                         "request " + v + " on a miss: the response is relayed, not stored",
                         {fresh_with_etag},
                         {get().with("Cache-Control", v).expect_body("payload").origin(1),
                          get().with("Cache-Control", "only-if-cached").expect(504).origin(1)}});
  }
  cases.push_back(served("RFC 9111 §5.2.3", "unknown request directives are ignored", fresh_with_etag,
                         {{"Cache-Control", "foo, bar=baz"}}));
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 5.2.1.1: request max-age", "[conformance][request]") {
  run_cases("req-max-age", max_age_cases());
}
TEST_CASE("RFC 9111 5.2.1.2: request max-stale", "[conformance][request]") {
  run_cases("req-max-stale", max_stale_cases());
}
TEST_CASE("RFC 9111 5.2.1.3: request min-fresh", "[conformance][request]") {
  run_cases("req-min-fresh", min_fresh_cases());
}
TEST_CASE("RFC 9111 5.2.1.4 and 5.4: request no-cache and Pragma", "[conformance][request]") {
  run_cases("req-no-cache", no_cache_cases());
}
TEST_CASE("RFC 9111 5.2.1.5 and 5.2.1.7: no-store and only-if-cached", "[conformance][request]") {
  run_cases("req-only-if-cached", store_and_only_if_cached_cases());
}
