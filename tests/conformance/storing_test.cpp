// RFC 9111 §3: which responses a shared cache stores.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

const std::string lm_old = "{date:-864000}";  // Last-Modified ten days ago

// RFC 9110 §15.1: heuristically cacheable status codes (206 has its own cases).
const std::vector<unsigned> heuristic_codes{200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501};
// Status codes understood by the cache but not heuristically cacheable.
const std::vector<unsigned> explicit_only_codes{201, 202, 302, 303, 307, 400, 403,
                                                409, 500, 502, 503, 504};

std::string body_for(unsigned status) { return status == 204 ? "" : "payload"; }

std::vector<Case> status_cases() {
  std::vector<Case> cases;
  for (unsigned code : heuristic_codes) {
    cases.push_back(stored_case(
        "RFC 9111 §3, §4.2.2; RFC 9110 §15.1",
        fmt::format("{} with Last-Modified only is stored and fresh by heuristic", code),
        answer(code, {{"Date", "{date:0}"}, {"Last-Modified", lm_old}}, body_for(code))));
    cases.push_back(stored_case("RFC 9111 §3, §5.2.2.1",
                                fmt::format("{} with max-age is stored", code),
                                answer(code, {{"Cache-Control", "max-age=3600"}}, body_for(code))));
    cases.push_back(not_stored_case(
        "RFC 9111 §5.2.2.5", fmt::format("{} with no-store is not stored", code),
        answer(code, {{"Cache-Control", "no-store, max-age=3600"}, {"Last-Modified", lm_old}},
               body_for(code))));
    cases.push_back(not_stored_case(
        "RFC 9111 §5.2.2.7", fmt::format("{} with private is not stored by a shared cache", code),
        answer(code, {{"Cache-Control", "private, max-age=3600"}}, body_for(code))));
    cases.push_back(not_stored_case(
        "RFC 9111 §4.2.2", fmt::format("{} with no freshness and no validator is not reused", code),
        answer(code, {{"Date", "{date:0}"}}, body_for(code))));
  }
  for (unsigned code : explicit_only_codes) {
    cases.push_back(not_stored_case(
        "RFC 9111 §3, §4.2.2; RFC 9110 §15.1",
        fmt::format("{} is not heuristically cacheable: Last-Modified alone does not store it",
                    code),
        answer(code, {{"Date", "{date:0}"}, {"Last-Modified", lm_old}})));
    cases.push_back(stored_case("RFC 9111 §3",
                                fmt::format("{} with explicit max-age is stored", code),
                                answer(code, {{"Cache-Control", "max-age=3600"}})));
    cases.push_back(stored_case(
        "RFC 9111 §3, §5.2.2.9",
        fmt::format("{} with public and Last-Modified is heuristically cacheable", code),
        answer(code, {{"Cache-Control", "public"}, {"Date", "{date:0}"}, {"Last-Modified", lm_old}})));
    cases.push_back(stored_case("RFC 9111 §3, §5.3",
                                fmt::format("{} with a future Expires is stored", code),
                                answer(code, {{"Date", "{date:0}"}, {"Expires", "{date:3600}"}})));
  }
  return cases;
}

std::vector<Case> directive_cases() {
  std::vector<Case> cases;
  const std::vector<std::string> no_store_spellings{
      "no-store",  "NO-STORE", "No-Store", "max-age=3600, no-store", "no-store, max-age=3600",
      "public, no-store, max-age=3600", "no-store=\"ignored\", max-age=3600",
      "max-age=3600,no-store"};
  for (const auto& value : no_store_spellings) {
    cases.push_back(not_stored_case("RFC 9111 §5.2.2.5, §5.2",
                                    "response Cache-Control: " + value + " is not stored",
                                    answer(200, {{"Cache-Control", value}})));
  }
  // no-store on a second Cache-Control line counts as well (RFC 9110 §5.3).
  cases.push_back(not_stored_case(
      "RFC 9111 §5.2.2.5; RFC 9110 §5.3", "no-store on a second Cache-Control line",
      answer(200, {{"Cache-Control", "max-age=3600"}, {"Cache-Control", "no-store"}})));

  const std::vector<std::string> private_spellings{"private", "PRIVATE", "Private, max-age=3600",
                                                   "max-age=3600, private", "public, private"};
  for (const auto& value : private_spellings) {
    cases.push_back(not_stored_case("RFC 9111 §5.2.2.7",
                                    "response Cache-Control: " + value + " is not stored",
                                    answer(200, {{"Cache-Control", value}})));
  }
  // A quoted comma does not split the directive list: this is one unknown extension.
  cases.push_back(stored_case("RFC 9111 §5.2, §5.2.3; RFC 9110 §5.6.4",
                              "no-store inside a quoted extension argument is not no-store",
                              answer(200, {{"Cache-Control", "max-age=3600, ext=\"a, no-store\""}})));
  const std::vector<std::string> unknown_extensions{"foo", "foo=bar", "x-ext=\"q\"", "community=\"UCI\""};
  for (const auto& ext : unknown_extensions) {
    cases.push_back(stored_case("RFC 9111 §5.2.3", "unknown directive " + ext + " is ignored",
                                answer(200, {{"Cache-Control", "max-age=3600, " + ext}})));
  }

  // must-understand (RFC 9111 §5.2.2.3).
  cases.push_back(stored_case(
      "RFC 9111 §5.2.2.3",
      "must-understand with no-store and an understood status: no-store is ignored",
      answer(200, {{"Cache-Control", "must-understand, no-store, max-age=3600"}})));
  cases.push_back(stored_case(
      "RFC 9111 §5.2.2.3", "must-understand on a 404 the cache understands",
      answer(404, {{"Cache-Control", "max-age=3600, no-store, must-understand"}})));
  cases.push_back(not_stored_case(
      "RFC 9111 §5.2.2.3, §3", "must-understand with a status code the cache does not know",
      answer(299, {{"Cache-Control", "must-understand, max-age=3600"}})));
  cases.push_back(not_stored_case("RFC 9111 §3", "an unknown 2xx status code is not stored",
                                  answer(299, {{"Cache-Control", "max-age=3600"}})));
  cases.push_back(not_stored_case("RFC 9111 §3", "an unknown 5xx status code is not stored",
                                  answer(599, {{"Cache-Control", "max-age=3600"}})));
  cases.push_back(not_stored_case(
      "RFC 9111 §5.2.2.3", "must-understand does not override private",
      answer(200, {{"Cache-Control", "must-understand, no-store, private, max-age=3600"}})));

  // Vary: * (RFC 9111 §4.1): it never matches, so it is not worth storing.
  for (const std::string value : {"*", "Accept, *", "*, Accept-Encoding"}) {
    cases.push_back(not_stored_case("RFC 9111 §4.1", "Vary: " + value + " is never reused",
                                    answer(200, {{"Cache-Control", "max-age=3600"}, {"Vary", value}})));
  }
  // A response with only a validator is stored and revalidated on each use.
  {
    Case c{"RFC 9111 §3, §4.3.1", "200 with only an ETag is stored and revalidated on use",
           {answer(200, {{"ETag", "\"v1\""}}), answer(304, {{"ETag", "\"v1\""}}, "")},
           {get().origin(1), get().expect_body("payload").origin(2).origin_got(
                                 is("If-None-Match", "\"v1\""))}};
    cases.push_back(c);
  }
  return cases;
}

std::vector<Case> authorization_cases() {
  const Fields auth{{"Authorization", "Basic dXNlcjpwYXNz"}};
  std::vector<Case> cases;
  cases.push_back(not_stored_case("RFC 9111 §3.5",
                                  "a response to a request with Authorization and max-age only",
                                  answer(200, {{"Cache-Control", "max-age=3600"}}), auth));
  cases.push_back(not_stored_case("RFC 9111 §3.5", "Authorization and a heuristic lifetime",
                                  answer(200, {{"Last-Modified", lm_old}}), auth));
  cases.push_back(not_stored_case("RFC 9111 §3.5", "Authorization and Expires",
                                  answer(200, {{"Expires", "{date:3600}"}}), auth));
  for (const std::string value : {"public, max-age=3600", "PUBLIC, max-age=3600", "s-maxage=3600",
                                  "must-revalidate, max-age=3600", "max-age=3600, S-MAXAGE=3600"}) {
    cases.push_back(stored_case("RFC 9111 §3.5",
                                "Authorization with " + value + " may be stored",
                                answer(200, {{"Cache-Control", value}}), auth));
  }
  cases.push_back(not_stored_case(
      "RFC 9111 §3.5, §5.2.2.7", "Authorization with public and private: private wins",
      answer(200, {{"Cache-Control", "public, private, max-age=3600"}}), auth));
  // A stored public response serves a later request without credentials too.
  cases.push_back(Case{"RFC 9111 §3.5, §5.2.2.9",
                       "public response to an authorized request serves later requests",
                       {answer(200, {{"Cache-Control", "public, max-age=3600"}})},
                       {get().with("Authorization", "Bearer abc").origin(1),
                        get().expect(has("Age")).origin(1)}});
  // must-revalidate with Authorization: stored, and revalidated once stale.
  cases.push_back(Case{
      "RFC 9111 §3.5, §5.2.2.2", "Authorization with must-revalidate is revalidated when stale",
      {answer(200, {{"Cache-Control", "must-revalidate, max-age=0"}, {"ETag", "\"m\""}}),
       answer(304, {{"ETag", "\"m\""}}, "")},
      {get().with("Authorization", "Basic x").origin(1),
       get().with("Authorization", "Basic x").expect_body("payload").origin(2).origin_got(
           is("If-None-Match", "\"m\""))}});
  return cases;
}

std::vector<Case> method_and_completeness_cases() {
  std::vector<Case> cases;
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    cases.push_back(Case{"RFC 9111 §3, §4; RFC 9110 §9.3",
                         method + " responses are not stored for a later GET",
                         {answer(200, {{"Cache-Control", "max-age=3600"}})},
                         {request(method).send_body(method == "POST" || method == "PUT" ? "x" : "")
                              .origin(1),
                          get().origin(2)}});
  }
  cases.push_back(Case{"RFC 9111 §3", "a HEAD response is not stored as a GET entry",
                       {answer(200, {{"Cache-Control", "max-age=3600"}})},
                       {head().origin(1), get().expect_body("payload").origin(2)}});
  cases.push_back(not_stored_case("RFC 9111 §5.2.1.5",
                                  "request no-store: the response is not stored",
                                  answer(200, {{"Cache-Control", "max-age=3600"}}),
                                  {{"Cache-Control", "no-store"}}));
  cases.push_back(Case{"RFC 9111 §5.2.1.5",
                       "request no-store with a fresh stored response: served, nothing stored",
                       {answer(200, {{"Cache-Control", "max-age=3600"}})},
                       {get().origin(1),
                        get().with("Cache-Control", "no-store").expect(has("Age")).origin(1)}});
  // Incomplete responses (RFC 9111 §3.3) are never stored as complete.
  {
    OriginResponse cut = answer(200, {{"Cache-Control", "max-age=3600"}}, std::string(1000, 'x'));
    cut.cut_after = 400;
    OriginResponse whole = answer(200, {{"Cache-Control", "max-age=3600"}}, std::string(1000, 'y'));
    cases.push_back(Case{"RFC 9111 §3.3, §3", "a body cut off mid-way is not stored",
                         {cut, whole},
                         {get().expect(0).origin(1),
                          get().expect_body(std::string(1000, 'y')).origin(2),
                          get().expect_body(std::string(1000, 'y')).origin(2)}});
    OriginResponse cut_chunked = cut;
    cut_chunked.chunked = true;
    cases.push_back(Case{"RFC 9111 §3.3; RFC 9112 §7.1",
                         "a chunked body without its last chunk is not stored",
                         {cut_chunked, whole},
                         {get().expect(0).origin(1), get().expect_body(std::string(1000, 'y')).origin(2)}});
    OriginResponse empty_cut = cut;
    empty_cut.cut_after = 0;
    cases.push_back(Case{"RFC 9111 §3.3", "a response whose body never arrives is not stored",
                         {empty_cut, whole},
                         {get().expect(0).origin(1), get().expect_body(std::string(1000, 'y')).origin(2)}});
  }
  // RFC 9111 §3.4: a 206 is not stored as if it were the complete response.
  cases.push_back(Case{
      "RFC 9111 §3.4, §3.3", "a 206 from the origin does not answer a later full GET",
      {answer(206, {{"Cache-Control", "max-age=3600"}, {"Content-Range", "bytes 0-3/7"}}, "payl"),
       answer(200, {{"Cache-Control", "max-age=3600"}}, "payload")},
      {get().with("Range", "bytes=0-3").expect(206).expect_body("payl").origin(1),
       get().expect(200).expect_body("payload").origin(2)}});
  cases.push_back(Case{
      "RFC 9111 §3.4, RFC 9110 §14.2",
      "a Range miss near the start fetches the whole object (range_offset_limit) and cuts the range",
      {answer(200, {{"Cache-Control", "max-age=60"}}, "payload")},
      {get().with("Range", "bytes=2-4").expect(206).expect_body("ylo").origin(1).origin_got(
           lacks("Range")),
       get().expect(200).expect_body("payload").origin(1)}});
  // Expired on arrival but with a validator: stored, revalidated.
  cases.push_back(Case{"RFC 9111 §3, §4.3",
                       "a response already stale (Expires in the past) with ETag is revalidated",
                       {answer(200, {{"Expires", "{date:-60}"}, {"ETag", "\"p\""}}),
                        answer(304, {{"ETag", "\"p\""}}, "")},
                       {get().origin(1), get().expect_body("payload").origin(2).origin_got(
                                             is("If-None-Match", "\"p\""))}});
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 3: storable status codes", "[conformance][storing]") {
  run_cases("status", status_cases());
}

TEST_CASE("RFC 9111 3 and 5.2.2: storing directives", "[conformance][storing]") {
  run_cases("store-directives", directive_cases());
}

TEST_CASE("RFC 9111 3.5: requests with Authorization", "[conformance][storing]") {
  run_cases("authorization", authorization_cases());
}

TEST_CASE("RFC 9111 3 and 3.3: methods and incomplete responses", "[conformance][storing]") {
  run_cases("methods", method_and_completeness_cases());
}
