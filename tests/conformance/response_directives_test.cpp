// RFC 9111 §5.2.2 (response directives) and RFC 8246 (immutable), over sockets.
#include <catch2/catch.hpp>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

const OriginResponse not_modified = answer(304, {{"ETag", "\"r\""}}, "");

// The second GET must go to the origin as a conditional request.
Case always_revalidated(std::string rfc, std::string name, Fields headers, Fields request = {}) {
  headers.emplace_back("ETag", "\"r\"");
  Step second = get().expect_body("payload").origin(2).origin_got(is("If-None-Match", "\"r\""));
  second.headers = request;
  Step first = get().origin(1);
  first.headers = request;
  return Case{std::move(rfc), std::move(name), {answer(200, std::move(headers)), not_modified},
              {first, second}};
}

// The second GET is a hit without the `withheld` fields (the first, from the origin, has them).
Case without_fields(std::string name, Fields headers, std::vector<std::string> withheld) {
  Step first = get().origin(1);
  Step second = get().expect_body("payload").expect(has("Age")).origin(1);
  for (const std::string& field : withheld) {
    first.expect(has(field));
    second.expect(lacks(field));
  }
  return Case{"RFC 9111 §5.2.2.4", std::move(name), {answer(200, std::move(headers))}, {first, second}};
}

Case hit(std::string rfc, std::string name, Fields headers, Fields request = {}) {
  Step second = get().expect_body("payload").expect(has("Age")).origin(1);
  second.headers = std::move(request);
  return Case{std::move(rfc), std::move(name), {answer(200, std::move(headers))},
              {get().origin(1), second}};
}

std::vector<Case> no_cache_cases() {
  std::vector<Case> cases;
  for (const std::string v : {"no-cache", "No-Cache", "no-cache, max-age=3600", "max-age=3600, NO-CACHE",
                              "public, no-cache, s-maxage=3600"}) {
    cases.push_back(always_revalidated("RFC 9111 §5.2.2.4",
                                       "response " + v + " is revalidated even when fresh",
                                       {{"Cache-Control", v}}));
  }
  cases.push_back(always_revalidated("RFC 9111 §5.2.2.4; RFC 9110 §5.3",
                                     "no-cache on a second Cache-Control line",
                                     {{"Cache-Control", "max-age=3600"}, {"Cache-Control", "no-cache"}}));
  cases.push_back(Case{"RFC 9111 §5.2.2.4", "no-cache without a validator: every use fetches",
                       {answer(200, {{"Cache-Control", "no-cache, max-age=3600"}}, "one"),
                        answer(200, {{"Cache-Control", "no-cache, max-age=3600"}}, "two")},
                       {get().expect_body("one").origin(1), get().expect_body("two").origin(2)}});
  // Qualified no-cache (RFC 9111 §5.2.2.4): the response may be reused "if the listed header
  // fields are excluded from the subsequent response or the subsequent response has been
  // successfully revalidated": a hit leaves the named fields out; a revalidated answer has them.
  cases.push_back(without_fields("no-cache=\"X-Secret\": a hit is served without X-Secret",
                                 {{"Cache-Control", "no-cache=\"X-Secret\", max-age=3600"}, {"X-Secret", "s"}},
                                 {"X-Secret"}));
  cases.push_back(without_fields("no-cache=\"x-secret\" names fields case-insensitively",
                                 {{"Cache-Control", "no-cache=\"x-secret\", max-age=3600"}, {"X-Secret", "s"}},
                                 {"X-Secret"}));
  cases.push_back(without_fields("no-cache=\"a, Set-Cookie\" lists several fields",
                                 {{"Cache-Control", "no-cache=\"a, Set-Cookie\", max-age=3600"},
                                  {"Set-Cookie", "id=1"}, {"A", "1"}},
                                 {"Set-Cookie", "A"}));
  cases.push_back(hit("RFC 9111 §5.2.2.4", "no-cache=\"X-Absent\" naming no stored field: a hit",
                      {{"Cache-Control", "no-cache=\"X-Absent\", max-age=3600"}}));
  cases.push_back(Case{"RFC 9111 §5.2.2.4, §3.1",
                       "no-cache=\"Set-Cookie\": a revalidated answer carries Set-Cookie, the next hit not",
                       {answer(200, {{"Cache-Control", "no-cache=\"Set-Cookie\", max-age=3600"},
                                     {"Set-Cookie", "id=1"}, {"ETag", "\"r\""}}),
                        not_modified},
                       {get().expect(is("Set-Cookie", "id=1")).origin(1),
                        get().with("Cache-Control", "no-cache").expect(is("Set-Cookie", "id=1"))
                            .expect_body("payload").origin(2).origin_got(is("If-None-Match", "\"r\"")),
                        get().expect(lacks("Set-Cookie")).expect_body("payload").expect(has("Age")).origin(2)}});
  return cases;
}

std::vector<Case> no_cache_field_cases() {
  std::vector<Case> cases;
  const Fields secret{{"Cache-Control", "no-cache=\"X-Secret\", max-age=100"}, {"Date", "{date:-200}"},
                      {"ETag", "\"r\""}, {"X-Secret", "s"}};
  cases.push_back(Case{"RFC 9111 §5.2.2.4, §4.3.4",
                       "no-cache=\"X-Secret\", stale: revalidated with a 304, answered with X-Secret",
                       {answer(200, secret), not_modified},
                       {get().origin(1),
                        get().expect(is("X-Secret", "s")).expect_body("payload").origin(2)
                            .origin_got(is("If-None-Match", "\"r\""))}});
  cases.push_back(Case{"RFC 9111 §5.2.2.4; RFC 9110 §9.3.2",
                       "no-cache=\"X-Secret\": HEAD from the cache leaves X-Secret out too",
                       {answer(200, {{"Cache-Control", "no-cache=\"X-Secret\", max-age=3600"}, {"X-Secret", "s"}})},
                       {get().origin(1), head().expect(lacks("X-Secret")).expect(has("Age")).origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.2.4, §5.2.1.2",
                       "no-cache=\"X-Secret\": a stale response served to max-stale leaves X-Secret out",
                       {answer(200, secret)},
                       {get().origin(1), get().with("Cache-Control", "max-stale=1000").expect(lacks("X-Secret"))
                                             .expect_body("payload").origin(1)}});
  Fields erring = secret;
  erring[0].second = "no-cache=\"X-Secret\", max-age=100, stale-if-error=1000";
  cases.push_back(Case{"RFC 9111 §5.2.2.4; RFC 5861 §4",
                       "no-cache=\"X-Secret\": a stale response served on error leaves X-Secret out",
                       {answer(200, erring), answer(500, {}, "error")},
                       {get().origin(1), get().expect(200).expect(lacks("X-Secret")).expect_body("payload")
                                             .origin(2)}});
  return cases;
}

std::vector<Case> revalidate_cases() {
  std::vector<Case> cases;
  for (const std::string v : {"must-revalidate", "proxy-revalidate", "MUST-REVALIDATE"}) {
    cases.push_back(always_revalidated("RFC 9111 §5.2.2.2, §5.2.2.8",
                                       v + ": a stale response is revalidated",
                                       {{"Cache-Control", v + ", max-age=100"}, {"Date", "{date:-200}"}}));
    cases.push_back(hit("RFC 9111 §5.2.2.2, §5.2.2.8", v + ": a fresh response is still served",
                        {{"Cache-Control", v + ", max-age=3600"}}));
    cases.push_back(Case{"RFC 9111 §5.2.2.2, §4.2.4",
                         v + ": an origin error on revalidation is relayed, never the stale entry",
                         {answer(200, {{"Cache-Control", v + ", max-age=100"}, {"Date", "{date:-200}"},
                                       {"ETag", "\"r\""}}),
                          answer(500, {}, "broken")},
                         {get().origin(1), get().expect(500).expect_body("broken").origin(2)}});
  }
  cases.push_back(Case{"RFC 9111 §4.2.4", "a stale response is not served when the origin answers 503",
                       {answer(200, {{"Cache-Control", "max-age=100"}, {"Date", "{date:-200}"}, {"ETag", "\"r\""}}),
                        answer(503, {}, "down")},
                       {get().origin(1), get().expect(503).expect_body("down").origin(2),
                        get().expect(503).origin(3)}});
  // RFC 9111 §5.2.2.2: disconnected from the origin, a cache answers a stale must-revalidate
  // response with an error, which SHOULD be 504; proxy-revalidate and s-maxage are the same
  // for a shared cache (§5.2.2.8, §5.2.2.10). Once the origin is back the entry is revalidated.
  for (const std::string v : {"must-revalidate, max-age=100", "proxy-revalidate, max-age=100",
                              "s-maxage=100", "must-revalidate, stale-if-error=1000, max-age=100"}) {
    cases.push_back(Case{"RFC 9111 §5.2.2.2, §5.2.2.8, §5.2.2.10",
                         v + ": stale and the origin unreachable gives 504 (Gateway Timeout)",
                         {answer(200, {{"Cache-Control", v}, {"Date", "{date:-200}"}, {"ETag", "\"r\""}}),
                          not_modified},
                         {get().origin(1), get().origin_down().expect(504).origin(1),
                          get().expect(200).expect_body("payload").origin(2)
                              .origin_got(is("If-None-Match", "\"r\""))}});
  }
  cases.push_back(Case{"RFC 9111 §5.2.2.2, §4.2.1",
                       "must-revalidate: a fresh response is served while the origin is unreachable",
                       {answer(200, {{"Cache-Control", "must-revalidate, max-age=3600"}})},
                       {get().origin(1), get().origin_down().expect(200).expect_body("payload")
                                             .expect(has("Age")).origin(1)}});
  cases.push_back(Case{"RFC 9111 §4.2.4",
                       "a stale response without must-revalidate and the origin unreachable: the "
                       "connect error (502), the stale response is not served",
                       {answer(200, {{"Cache-Control", "max-age=100"}, {"Date", "{date:-200}"},
                                     {"ETag", "\"r\""}})},
                       {get().origin(1), get().origin_down().expect(502).origin(1)}});
  return cases;
}

std::vector<Case> other_directive_cases() {
  std::vector<Case> cases;
  // no-transform (RFC 9111 §5.2.2.6): the proxy never transforms; the stored representation is
  // served byte for byte with its content metadata.
  std::string gz("\x1f\x8b\x08\x00binary\x00\xff", 12);
  cases.push_back(Case{"RFC 9111 §5.2.2.6; RFC 9110 §7.7",
                       "no-transform: content, Content-Encoding and Content-Type unchanged",
                       {answer(200, {{"Cache-Control", "no-transform, max-age=3600"},
                                     {"Content-Encoding", "gzip"}, {"Content-Type", "image/png"}}, gz)},
                       {get().expect_body(gz).origin(1),
                        get().expect_body(gz).expect(is("Content-Encoding", "gzip"))
                            .expect(is("Content-Type", "image/png"))
                            .expect(is("Content-Length", "12"))
                            .expect(contains("Cache-Control", "no-transform")).origin(1)}});
  cases.push_back(Case{"RFC 9110 §7.7", "without no-transform the content is not transformed either",
                       {answer(200, {{"Cache-Control", "max-age=3600"}, {"Content-Type", "text/html"}},
                               "<html>  spaced   </html>")},
                       {get().origin(1), get().expect_body("<html>  spaced   </html>")
                                             .expect(is("Content-Type", "text/html")).origin(1)}});
  // immutable (RFC 8246): a reload (request max-age=0) does not revalidate a fresh response.
  for (const std::string reload : {"max-age=0", "max-age=0, foo"}) {
    cases.push_back(hit("RFC 8246 §2", "immutable: a reload with " + reload + " is served from cache",
                        {{"Cache-Control", "max-age=3600, immutable"}, {"ETag", "\"r\""}, {"Date", "{date:-100}"}},
                        {{"Cache-Control", reload}}));
  }
  cases.push_back(hit("RFC 8246 §2", "IMMUTABLE in capitals",
                      {{"Cache-Control", "IMMUTABLE, max-age=3600"}, {"ETag", "\"r\""}, {"Date", "{date:-100}"}},
                      {{"Cache-Control", "max-age=0"}}));
  cases.push_back(always_revalidated("RFC 8246 §2, RFC 9111 §5.2.1.4",
                                     "immutable: a forced reload (no-cache) still revalidates",
                                     {{"Cache-Control", "max-age=3600, immutable"}},
                                     {{"Cache-Control", "no-cache"}}));
  cases.push_back(always_revalidated("RFC 8246 §2", "immutable: once stale it is revalidated",
                                     {{"Cache-Control", "max-age=100, immutable"}, {"Date", "{date:-200}"}}));
  cases.push_back(always_revalidated("RFC 9111 §5.2.1.1", "without immutable a reload revalidates",
                                     {{"Cache-Control", "max-age=3600"}, {"Date", "{date:-100}"}},
                                     {{"Cache-Control", "max-age=0"}}));
  // public (RFC 9111 §5.2.2.9).
  cases.push_back(hit("RFC 9111 §5.2.2.9", "public with max-age is stored",
                      {{"Cache-Control", "public, max-age=3600"}}));
  cases.push_back(hit("RFC 9111 §5.2.2.9, §4.2.2", "public without explicit lifetime: heuristic",
                      {{"Cache-Control", "public"}, {"Last-Modified", "{date:-864000}"}}));
  // s-maxage (RFC 9111 §5.2.2.10) applies to shared caches like this one.
  cases.push_back(hit("RFC 9111 §5.2.2.10", "s-maxage alone makes the response fresh",
                      {{"Cache-Control", "s-maxage=3600"}}));
  cases.push_back(hit("RFC 9111 §5.2.2.10", "s-maxage with a quoted value (lenient)",
                      {{"Cache-Control", "s-maxage=\"3600\""}}));
  // private="field" (RFC 9111 §5.2.2.7): stored without the named fields.
  cases.push_back(Case{"RFC 9111 §5.2.2.7", "private=\"X-User\": stored without X-User",
                       {answer(200, {{"Cache-Control", "private=\"X-User\", max-age=3600"},
                                     {"X-User", "alice"}, {"X-Other", "kept"}})},
                       {get().expect(is("X-User", "alice")).origin(1),
                        get().expect(lacks("X-User")).expect(is("X-Other", "kept")).expect(has("Age")).origin(1)}});
  cases.push_back(Case{"RFC 9111 §5.2.2.7", "private=\"Set-Cookie, X-User\" (case-insensitive names)",
                       {answer(200, {{"Cache-Control", "private=\"set-cookie, x-user\", max-age=3600"},
                                     {"Set-Cookie", "a=1"}, {"X-User", "alice"}})},
                       {get().expect(is("Set-Cookie", "a=1")).origin(1),
                        get().expect(lacks("Set-Cookie")).expect(lacks("X-User")).origin(1)}});
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 5.2.2.4: response no-cache", "[conformance][response]") {
  std::vector<Case> cases = no_cache_cases();
  for (Case& c : no_cache_field_cases()) cases.push_back(std::move(c));
  run_cases("res-no-cache", cases);
}
TEST_CASE("RFC 9111 5.2.2.2 and 5.2.2.8: must-revalidate and proxy-revalidate",
          "[conformance][response]") {
  run_cases("res-revalidate", revalidate_cases());
}
TEST_CASE("RFC 9111 5.2.2: no-transform immutable public s-maxage private",
          "[conformance][response]") {
  run_cases("res-other", other_directive_cases());
}
