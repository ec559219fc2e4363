// RFC 9111 §4.4 (invalidation by unsafe methods) and RFC 9110 §9.3.2 (HEAD), over sockets.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

// Stores "/" (and "/other"), sends `method` to "/", answered `status` with `extra` fields,
// then GETs `checked`: the origin is contacted again iff `invalidated`.
Case unsafe_case(std::string name, std::string method, unsigned status, Fields extra,
                 std::string checked, bool invalidated) {
  Step check = get().at(checked).expect_body("payload");
  check.origin(invalidated ? 4 : 3);
  return Case{"RFC 9111 §4.4", std::move(name), {},
              {get().origin(1), get().at("/other").origin(2),
               request(method).send_body(method == "POST" || method == "PUT" ? "data" : "")
                   .expect(status).origin(3),
               check},
              false,
              [=](const OriginRequest& r, std::size_t) {
                if (r.method != "GET") return answer(status, extra, "done");
                return answer(200, {{"Cache-Control", "max-age=3600"}});
              }};
}

std::vector<Case> invalidation_cases() {
  std::vector<Case> cases;
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH"}) {
    for (unsigned status : {200u, 201u, 204u, 303u}) {
      cases.push_back(unsafe_case(fmt::format("{} answered {} invalidates the target URI", method, status),
                                  method, status, {}, "/", true));
    }
    cases.push_back(unsafe_case(method + " answered 500 leaves the entry", method, 500, {}, "/", false));
    cases.push_back(unsafe_case(method + " answered 404 leaves the entry", method, 404, {}, "/", false));
    cases.push_back(unsafe_case(method + " does not invalidate an unrelated URI", method, 200, {},
                                "/other", false));
  }
  cases.push_back(unsafe_case("Location on the same origin is invalidated", "POST", 201,
                              {{"Location", "{prefix}/other"}}, "/other", true));
  cases.push_back(unsafe_case("an absolute same-origin Location is invalidated", "POST", 201,
                              {{"Location", "{origin}{prefix}/other"}}, "/other", true));
  cases.push_back(unsafe_case("Content-Location on the same origin is invalidated", "PUT", 200,
                              {{"Content-Location", "{prefix}/other"}}, "/other", true));
  cases.push_back(unsafe_case("a relative Location is resolved against the target", "POST", 303,
                              {{"Location", "other"}}, "/other", true));
  cases.push_back(unsafe_case("Location on another origin is not invalidated", "POST", 201,
                              {{"Location", "http://elsewhere.invalid{prefix}/other"}}, "/other", false));
  cases.push_back(unsafe_case("Content-Location on another origin is not invalidated", "PUT", 200,
                              {{"Content-Location", "http://127.0.0.1:1{prefix}/other"}}, "/other", false));
  cases.push_back(unsafe_case("an error response's Location is not invalidated", "POST", 500,
                              {{"Location", "{prefix}/other"}}, "/other", false));
  for (const std::string method : {"OPTIONS", "GET"}) {
    cases.push_back(Case{"RFC 9111 §4.4; RFC 9110 §9.2.1", "safe " + method + " does not invalidate",
                         {answer(200, {{"Cache-Control", "max-age=3600"}})},
                         {get().origin(1), request(method).with("Cache-Control", "no-cache").origin(2),
                          get().expect(has("Age")).origin(2)}});
  }
  return cases;
}

std::vector<Case> head_cases() {
  std::vector<Case> cases;
  cases.push_back(Case{"RFC 9110 §9.3.2; RFC 9111 §4", "HEAD is answered from a stored GET response",
                       {answer(200, {{"Cache-Control", "max-age=3600"}, {"X-Meta", "m"}})},
                       {get().origin(1),
                        head().expect_body("").expect(is("Content-Length", "7")).expect(is("X-Meta", "m"))
                            .expect(has("Age")).origin(1),
                        get().expect_body("payload").origin(1)}});
  cases.push_back(Case{"RFC 9110 §9.3.2", "HEAD on a miss goes to the origin as HEAD",
                       {answer(200, {{"Cache-Control", "max-age=3600"}})},
                       {head().origin(1), get().expect_body("payload").origin(2)}});
  cases.push_back(Case{"RFC 9111 §4.3.2", "HEAD on a stale entry revalidates it",
                       {answer(200, {{"Cache-Control", "max-age=0"}, {"ETag", "\"h\""}}),
                        answer(304, {{"ETag", "\"h\""}}, "")},
                       {get().origin(1), head().expect_body("").origin(2).origin_got(is("If-None-Match", "\"h\""))}});
  // An origin answers HEAD with the fields of the GET response, Content-Length included,
  // and no content (RFC 9110 §9.3.2): the scripted origin announces the answer's body length
  // and sends no body for HEAD, so a HEAD answer is written with the GET representation.
  cases.push_back(Case{
      "RFC 9111 §4.3.5", "a HEAD response updates the stored GET response's fields",
      {answer(200, {{"Cache-Control", "max-age=0"}, {"ETag", "\"h\""}, {"X-Version", "1"}}),
       answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"h\""}, {"X-Version", "2"}})},
      {get().origin(1),
       head().with("Cache-Control", "no-cache").expect(is("X-Version", "2"))
           .expect(is("Content-Length", "7")).expect_body("").origin(2),
       get().expect(is("X-Version", "2")).expect_body("payload").expect(has("Age")).origin(2)}});
  cases.push_back(Case{
      "RFC 9111 §4.3.5", "a HEAD response with a different ETag invalidates the stored response",
      {answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"h1\""}}),
       answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"h2\""}}, "second"),
       answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"h2\""}}, "second")},
      {get().origin(1), head().with("Cache-Control", "no-cache").origin(2),
       get().expect_body("second").origin(3)}});
  cases.push_back(Case{
      "RFC 9111 §4.3.5", "a HEAD response with another Content-Length invalidates the stored response",
      {answer(200, {{"Cache-Control", "max-age=0"}, {"ETag", "\"h\""}}),
       answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"h\""}}, "longer payload"),
       answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"h\""}}, "longer payload")},
      {get().origin(1), head().with("Cache-Control", "no-cache").expect(is("Content-Length", "14")).origin(2),
       get().expect_body("longer payload").origin(3)}});
  return cases;
}

std::vector<Case> collapsed_cases() {
  std::vector<Case> cases;
  OriginResponse slow = answer(200, {{"Cache-Control", "max-age=3600"}}, "collapsed");
  slow.delay = std::chrono::milliseconds(500);
  cases.push_back(Case{"RFC 9111 §4 (collapsed forwarding)", "concurrent misses make one origin request",
                       {slow}, {get().times(4).expect_body("collapsed").origin(1)}});
  OriginResponse slow_private = answer(200, {{"Cache-Control", "private"}}, "mine");
  slow_private.delay = std::chrono::milliseconds(500);
  cases.push_back(Case{"RFC 9111 §5.2.2.7 (collapsed forwarding)",
                       "concurrent misses for an unstorable response each reach the origin",
                       {slow_private}, {get().times(3).expect_body("mine").origin(3)}});
  // Squid's collapsed_forwarding applies to revalidations too: one conditional request for a
  // stale entry, and the others are answered from the entry it refreshes.
  OriginResponse slow_304 = answer(304, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"c\""}}, "");
  slow_304.delay = std::chrono::milliseconds(500);
  cases.push_back(Case{"RFC 9111 §4, §4.3 (collapsed forwarding)",
                       "concurrent requests for a stale entry make one conditional request",
                       {answer(200, {{"Cache-Control", "max-age=100"}, {"Date", "{date:-200}"}, {"ETag", "\"c\""}}),
                        slow_304},
                       {get().origin(1),
                        get().times(4).expect_body("payload").origin(2).origin_got(is("If-None-Match", "\"c\"")),
                        get().expect_body("payload").expect(has("Age")).origin(2)}});
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 4.4: invalidation", "[conformance][invalidation]") {
  run_cases("invalidation", invalidation_cases());
}
TEST_CASE("RFC 9110 9.3.2: HEAD", "[conformance][head]") { run_cases("head", head_cases()); }
TEST_CASE("collapsed forwarding", "[conformance][collapsed]") {
  run_cases("collapsed", collapsed_cases());
}
