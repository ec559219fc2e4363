// RFC 9111 §4.3 (validation): conditional requests to the origin, 304 handling, and the
// client's own conditional requests answered from the cache (RFC 9110 §13.2).
#include <catch2/catch.hpp>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

const std::string lm = "Sun, 06 Nov 1994 08:49:37 GMT";

// Stale stored response with `validators`; the second GET must send `conditions`.
Case sends(std::string name, Fields validators, std::vector<FieldCheck> conditions,
           Fields not_modified_fields = {}) {
  validators.emplace_back("Cache-Control", "max-age=0");
  Step second = get().expect_body("payload").origin(2);
  for (auto& c : conditions) second.origin_got(std::move(c));
  return Case{"RFC 9111 §4.3.1", std::move(name),
              {answer(200, std::move(validators)), answer(304, std::move(not_modified_fields), "")},
              {get().origin(1), second}};
}

std::vector<Case> outgoing_cases() {
  std::vector<Case> cases;
  cases.push_back(sends("a strong ETag is sent in If-None-Match", {{"ETag", "\"v1\""}},
                        {is("If-None-Match", "\"v1\""), lacks("If-Modified-Since")}, {{"ETag", "\"v1\""}}));
  cases.push_back(sends("a weak ETag is sent in If-None-Match", {{"ETag", "W/\"v1\""}},
                        {is("If-None-Match", "W/\"v1\"")}, {{"ETag", "W/\"v1\""}}));
  cases.push_back(sends("Last-Modified is sent in If-Modified-Since", {{"Last-Modified", lm}},
                        {is("If-Modified-Since", lm), lacks("If-None-Match")}));
  cases.push_back(sends("both validators are sent", {{"ETag", "\"v2\""}, {"Last-Modified", lm}},
                        {is("If-None-Match", "\"v2\""), is("If-Modified-Since", lm)}, {{"ETag", "\"v2\""}}));
  cases.push_back(sends("an invalid Last-Modified is not sent as a validator",
                        {{"ETag", "\"v3\""}, {"Last-Modified", "last tuesday"}},
                        {is("If-None-Match", "\"v3\""), lacks("If-Modified-Since")}, {{"ETag", "\"v3\""}}));
  // The client's own preconditions are replaced by the cache's (RFC 9111 §4.3.1).
  {
    Case c = sends("the client's If-None-Match is replaced by the stored validator",
                   {{"ETag", "\"mine\""}}, {is("If-None-Match", "\"mine\"")}, {{"ETag", "\"mine\""}});
    c.steps[1].with("Cache-Control", "no-cache").with("If-None-Match", "\"other\"");
    c.steps[1].expect(200);
    c.rfc = "RFC 9111 §4.3.1, §4.3.2";
    cases.push_back(c);
  }
  cases.push_back(Case{"RFC 9111 §4.3.2", "a client's conditional GET on a miss goes to the origin as is",
                       {answer(304, {{"ETag", "\"c\""}}, "")},
                       {get().with("If-None-Match", "\"c\"").expect(304).origin(1)
                            .origin_got(is("If-None-Match", "\"c\""))}});
  cases.push_back(Case{"RFC 9111 §3, §4.3.2", "a 304 relayed to a client is not stored as a response",
                       {answer(304, {{"ETag", "\"c\""}, {"Cache-Control", "max-age=3600"}}, ""),
                        answer(200, {{"ETag", "\"c\""}, {"Cache-Control", "max-age=3600"}})},
                       {get().with("If-None-Match", "\"c\"").expect(304).origin(1),
                        get().expect(200).expect_body("payload").origin(2)}});
  return cases;
}

std::vector<Case> merge_cases() {
  std::vector<Case> cases;
  auto stale = [](Fields extra) {
    extra.emplace_back("Cache-Control", "max-age=0");
    extra.emplace_back("ETag", "\"m\"");
    return answer(200, std::move(extra));
  };
  cases.push_back(Case{"RFC 9111 §4.3.4, §3.2", "a 304's Cache-Control refreshes the entry",
                       {stale({}), answer(304, {{"ETag", "\"m\""}, {"Cache-Control", "max-age=3600"}}, "")},
                       {get().origin(1), get().expect_body("payload").origin(2),
                        get().expect_body("payload").expect(has("Age")).origin(2)}});
  cases.push_back(Case{"RFC 9111 §4.3.4, §3.2", "a 304's new fields are added to the entry",
                       {stale({{"X-Old", "1"}}), answer(304, {{"ETag", "\"m\""}, {"X-New", "2"}}, "")},
                       {get().origin(1),
                        get().expect(is("X-New", "2")).expect(is("X-Old", "1")).origin(2)}});
  cases.push_back(Case{"RFC 9111 §4.3.4, §3.2", "a 304's field replaces every stored line of it",
                       {stale({{"X-Multi", "a"}, {"X-Multi", "b"}}),
                        answer(304, {{"ETag", "\"m\""}, {"X-Multi", "c"}}, "")},
                       {get().origin(1), get().expect(is("X-Multi", "c")).expect(lines("X-Multi", 1)).origin(2)}});
  cases.push_back(Case{"RFC 9111 §3.2", "a 304's Content-Length never replaces the stored one",
                       {stale({}), answer(304, {{"ETag", "\"m\""}, {"Content-Length", "999"}}, "")},
                       {get().origin(1),
                        get().expect_body("payload").expect(is("Content-Length", "7")).origin(2)}});
  cases.push_back(Case{"RFC 9111 §3.2, §3.1", "hop-by-hop fields of a 304 are not merged",
                       {stale({}), answer(304, {{"ETag", "\"m\""}, {"Connection", "X-Hop"}, {"X-Hop", "1"},
                                                {"Keep-Alive", "timeout=5"}}, "")},
                       {get().origin(1), get().expect(lacks("X-Hop")).expect(lacks("Keep-Alive")).origin(2)}});
  cases.push_back(Case{"RFC 9111 §3.2, §3.1", "Set-Cookie of the stored response survives a 304 without one",
                       {stale({{"Set-Cookie", "s=1"}}), answer(304, {{"ETag", "\"m\""}}, "")},
                       {get().origin(1), get().expect(is("Set-Cookie", "s=1")).origin(2)}});
  cases.push_back(Case{"RFC 9111 §3.2", "a 304's Set-Cookie replaces the stored one",
                       {stale({{"Set-Cookie", "s=1"}}), answer(304, {{"ETag", "\"m\""}, {"Set-Cookie", "s=2"}}, "")},
                       {get().origin(1), get().expect(is("Set-Cookie", "s=2")).expect(lines("Set-Cookie", 1)).origin(2)}});
  cases.push_back(Case{"RFC 9111 §3.2, §5.2.2.7", "private=\"X-P\" in a 304 keeps X-P out of the entry",
                       {stale({{"X-P", "1"}}),
                        answer(304, {{"ETag", "\"m\""}, {"Cache-Control", "private=\"X-P\", max-age=3600"}}, "")},
                       {get().origin(1), get().origin(2), get().expect(lacks("X-P")).origin(2)}});
  cases.push_back(Case{"RFC 9111 §4.3.4", "a 304 with a different strong ETag does not update the entry",
                       {stale({}), answer(304, {{"ETag", "\"other\""}, {"Cache-Control", "max-age=3600"}}, ""),
                        answer(200, {{"ETag", "\"other\""}, {"Cache-Control", "max-age=3600"}}, "fresh body")},
                       {get().origin(1), get().expect(200).expect_body("fresh body").origin(3),
                        get().expect_body("fresh body").origin(3)}});
  cases.push_back(Case{"RFC 9111 §4.3.4", "a 304 with the same weak ETag updates the entry",
                       {answer(200, {{"Cache-Control", "max-age=0"}, {"ETag", "W/\"w\""}}),
                        answer(304, {{"ETag", "W/\"w\""}, {"Cache-Control", "max-age=3600"}}, "")},
                       {get().origin(1), get().expect_body("payload").origin(2),
                        get().expect_body("payload").origin(2)}});
  cases.push_back(Case{"RFC 9111 §4.3.3", "a 200 answer to revalidation replaces the entry",
                       {stale({}), answer(200, {{"ETag", "\"n\""}, {"Cache-Control", "max-age=3600"}}, "new body")},
                       {get().origin(1), get().expect_body("new body").origin(2),
                        get().expect_body("new body").origin(2)}});
  cases.push_back(Case{"RFC 9111 §4.3.3", "a no-store 200 to revalidation is relayed and the old entry dropped",
                       {stale({}), answer(200, {{"Cache-Control", "no-store"}}, "secret"),
                        answer(200, {{"Cache-Control", "no-store"}}, "secret2")},
                       {get().origin(1), get().expect_body("secret").origin(2),
                        get().expect_body("secret2").origin(3)}});
  cases.push_back(Case{"RFC 9111 §4.3.3", "a 404 answer to revalidation is relayed",
                       {stale({}), answer(404, {{"Cache-Control", "max-age=3600"}}, "gone")},
                       {get().origin(1), get().expect(404).expect_body("gone").origin(2),
                        get().expect(404).expect_body("gone").origin(2)}});
  return cases;
}

// A fresh stored response with ETag "a" (or `etag`) and a Last-Modified; the client's
// conditional request is evaluated by the cache without contacting the origin (RFC 9111
// §4.3.2, RFC 9110 §13.2.2).
Case client_conditional(std::string name, Fields conditions, unsigned expected,
                        std::string method = "GET", std::string etag = "\"a\"") {
  Step second = request(method).expect(expected).origin(1);
  second.headers = std::move(conditions);
  if (expected == 304) {
    second.expect_body("").expect(is("ETag", etag)).expect(has("Cache-Control"));
  } else if (method == "GET") {
    second.expect_body("payload");
  }
  return Case{"RFC 9111 §4.3.2; RFC 9110 §13.1, §13.2.2",
              std::move(name),
              {answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", etag}, {"Last-Modified", lm},
                            {"Date", "{date:0}"}})},
              {get().origin(1), second}};
}

std::vector<Case> client_conditional_cases() {
  std::vector<Case> cases;
  cases.push_back(client_conditional("If-None-Match with the stored ETag: 304", {{"If-None-Match", "\"a\""}}, 304));
  cases.push_back(client_conditional("If-None-Match compares weakly: W/\"a\" matches \"a\"",
                                     {{"If-None-Match", "W/\"a\""}}, 304));
  cases.push_back(client_conditional("a stored weak ETag matches a strong tag of the same value",
                                     {{"If-None-Match", "\"a\""}}, 304, "GET", "W/\"a\""));
  cases.push_back(client_conditional("If-None-Match list containing the ETag: 304",
                                     {{"If-None-Match", "\"x\", \"a\", \"y\""}}, 304));
  cases.push_back(client_conditional("If-None-Match list on two lines", 
                                     {{"If-None-Match", "\"x\""}, {"If-None-Match", "\"a\""}}, 304));
  cases.push_back(client_conditional("If-None-Match: * matches any stored response",
                                     {{"If-None-Match", "*"}}, 304));
  cases.push_back(client_conditional("If-None-Match with another ETag: full 200",
                                     {{"If-None-Match", "\"b\""}}, 200));
  cases.push_back(client_conditional("If-None-Match tags are case-sensitive",
                                     {{"If-None-Match", "\"A\""}}, 200));
  cases.push_back(client_conditional("a malformed If-None-Match does not match",
                                     {{"If-None-Match", "a"}}, 200));
  cases.push_back(client_conditional("If-Modified-Since equal to Last-Modified: 304",
                                     {{"If-Modified-Since", lm}}, 304));
  cases.push_back(client_conditional("If-Modified-Since after Last-Modified: 304",
                                     {{"If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT"}}, 304));
  cases.push_back(client_conditional("If-Modified-Since before Last-Modified: 200",
                                     {{"If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}, 200));
  cases.push_back(client_conditional("an invalid If-Modified-Since is ignored: 200",
                                     {{"If-Modified-Since", "yesterday"}}, 200));
  cases.push_back(client_conditional("If-Modified-Since is ignored when If-None-Match is present",
                                     {{"If-None-Match", "\"b\""},
                                      {"If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT"}}, 200));
  cases.push_back(client_conditional("If-None-Match matching wins over an old If-Modified-Since",
                                     {{"If-None-Match", "\"a\""},
                                      {"If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}, 304));
  cases.push_back(client_conditional("HEAD with a matching If-None-Match: 304",
                                     {{"If-None-Match", "\"a\""}}, 304, "HEAD"));
  cases.push_back(client_conditional("HEAD with a non-matching If-None-Match: 200",
                                     {{"If-None-Match", "\"b\""}}, 200, "HEAD"));
  // Without Last-Modified, the stored Date stands in for it (RFC 9111 §4.3.2).
  cases.push_back(Case{"RFC 9111 §4.3.2", "If-Modified-Since against the stored Date when no Last-Modified",
                       {answer(200, {{"Cache-Control", "max-age=3600"}, {"Date", "{date:-60}"}})},
                       {get().origin(1), get().with("If-Modified-Since", "{date:0}").expect(304).origin(1),
                        get().with("If-Modified-Since", "{date:-3600}").expect(200).origin(1)}});
  // A stale entry: the cache revalidates with its own validator, then answers the client's
  // own condition from the refreshed entry.
  cases.push_back(Case{"RFC 9111 §4.3.2, §4.3.4", "a client's conditional on a stale entry after a 304 from the origin",
                       {answer(200, {{"Cache-Control", "max-age=0"}, {"ETag", "\"a\""}}),
                        answer(304, {{"ETag", "\"a\""}, {"Cache-Control", "max-age=3600"}}, "")},
                       {get().origin(1),
                        get().with("If-None-Match", "\"a\"").expect(304).origin(2)
                            .origin_got(is("If-None-Match", "\"a\""))}});
  cases.push_back(Case{"RFC 9111 §4.3.2", "a conditional request with no-cache is not answered from cache",
                       {answer(200, {{"Cache-Control", "max-age=3600"}, {"ETag", "\"a\""}}),
                        answer(304, {{"ETag", "\"a\""}}, "")},
                       {get().origin(1),
                        get().with("If-None-Match", "\"a\"").with("Cache-Control", "no-cache")
                            .expect(304).origin(2)}});
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 4.3.1: conditional requests to the origin", "[conformance][validation]") {
  run_cases("validation-out", outgoing_cases());
}
TEST_CASE("RFC 9111 4.3.3 and 4.3.4: handling the validation response", "[conformance][validation]") {
  run_cases("validation-merge", merge_cases());
}
TEST_CASE("RFC 9111 4.3.2: client conditional requests answered from the cache",
          "[conformance][validation]") {
  run_cases("validation-client", client_conditional_cases());
}
