// RFC 9111 §4.2 (freshness lifetime) and §5.3 (Expires), over sockets. A "fresh" case is two
// GETs with one origin request; a "stale" case has a validator, so the second GET is a
// conditional request that a 304 answers.
#include <catch2/catch.hpp>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

Case fresh(std::string rfc, std::string name, Fields headers) {
  return stored_case(std::move(rfc), std::move(name), answer(200, std::move(headers)));
}

// The stored response must not be served without asking the origin: the second GET is a
// conditional request, answered 304, and the client still gets the stored body.
Case stale(std::string rfc, std::string name, Fields headers) {
  headers.emplace_back("ETag", "\"s\"");
  return Case{std::move(rfc),
              std::move(name),
              {answer(200, std::move(headers)), answer(304, {{"ETag", "\"s\""}}, "")},
              {get().origin(1), get().expect(200).expect_body("payload").origin(2).origin_got(
                                    is("If-None-Match", "\"s\""))}};
}

std::vector<Case> max_age_cases() {
  std::vector<Case> cases;
  for (const std::string value :
       {"max-age=3600", "MAX-AGE=3600", "Max-Age=3600", "max-age=\"3600\"", "public, max-age=3600",
        "public,max-age=3600", "  max-age=3600  ", "max-age=3600, max-age=3600",
        "max-age=99999999999999999999", "max-age=2147483648", "max-age=0003600"}) {
    cases.push_back(fresh("RFC 9111 §5.2.2.1, §5.2, §1.2.2",
                          "Cache-Control: " + value + " is fresh", {{"Cache-Control", value}}));
  }
  for (const std::string value :
       {"max-age=0", "max-age=abc", "max-age=-1", "max-age=", "max-age", "max-age=1.5",
        "max-age=3600, max-age=0", "max-age=0, max-age=3600", "max-age=3600, max-age=60x",
        "max-age=\"\"", "max-age=\"abc\"", "max-age=+3600", "max-age=0x10"}) {
    cases.push_back(stale("RFC 9111 §4.2.1, §5.2.2.1, §1.2.2",
                          "Cache-Control: " + value + " is stale (invalid, zero or conflicting)",
                          {{"Cache-Control", value}}));
  }
  cases.push_back(stale("RFC 9111 §4.2.1; RFC 9110 §5.3",
                        "max-age on two field lines with different values is stale",
                        {{"Cache-Control", "max-age=3600"}, {"Cache-Control", "max-age=60"}}));
  cases.push_back(fresh("RFC 9110 §5.3", "max-age on one line, public on another",
                        {{"Cache-Control", "public"}, {"Cache-Control", "max-age=3600"}}));
  cases.push_back(stale("RFC 9111 §4.2, §4.2.3", "max-age=60 with Date two minutes ago is stale",
                        {{"Cache-Control", "max-age=60"}, {"Date", "{date:-120}"}}));
  cases.push_back(fresh("RFC 9111 §4.2, §4.2.3", "max-age=600 with Date two minutes ago is fresh",
                        {{"Cache-Control", "max-age=600"}, {"Date", "{date:-120}"}}));
  return cases;
}

std::vector<Case> precedence_cases() {
  std::vector<Case> cases;
  cases.push_back(fresh("RFC 9111 §5.3, §4.2.1", "max-age overrides a past Expires",
                        {{"Cache-Control", "max-age=3600"}, {"Expires", "{date:-3600}"}}));
  cases.push_back(stale("RFC 9111 §5.3, §4.2.1", "max-age=0 overrides a future Expires",
                        {{"Cache-Control", "max-age=0"}, {"Expires", "{date:3600}"}}));
  cases.push_back(fresh("RFC 9111 §5.3", "max-age overrides an invalid Expires",
                        {{"Cache-Control", "max-age=3600"}, {"Expires", "0"}}));
  cases.push_back(fresh("RFC 9111 §5.2.2.10, §4.2.1", "s-maxage overrides max-age=0",
                        {{"Cache-Control", "s-maxage=3600, max-age=0"}}));
  cases.push_back(stale("RFC 9111 §5.2.2.10, §4.2.1", "s-maxage=0 overrides max-age",
                        {{"Cache-Control", "max-age=3600, s-maxage=0"}}));
  cases.push_back(fresh("RFC 9111 §5.3", "s-maxage overrides a past Expires",
                        {{"Cache-Control", "s-maxage=3600"}, {"Expires", "{date:-3600}"}}));
  cases.push_back(stale("RFC 9111 §5.2.2.10", "an invalid s-maxage is stale despite max-age",
                        {{"Cache-Control", "s-maxage=abc, max-age=3600"}}));
  cases.push_back(fresh("RFC 9111 §5.2.2.10", "S-MAXAGE in capitals",
                        {{"Cache-Control", "S-MAXAGE=3600"}}));
  cases.push_back(stale("RFC 9111 §5.2.2.10", "s-maxage=60 with Date two minutes ago is stale",
                        {{"Cache-Control", "s-maxage=60, max-age=3600"}, {"Date", "{date:-120}"}}));
  cases.push_back(stale("RFC 9111 §4.2.2", "Expires present: no heuristic even with Last-Modified",
                        {{"Expires", "0"}, {"Last-Modified", "{date:-864000}"}}));
  cases.push_back(stale("RFC 9111 §4.2.2", "max-age=0 present: no heuristic from Last-Modified",
                        {{"Cache-Control", "max-age=0"}, {"Last-Modified", "{date:-864000}"}}));
  return cases;
}

std::vector<Case> expires_cases() {
  std::vector<Case> cases;
  cases.push_back(fresh("RFC 9111 §5.3, §4.2.1", "Expires an hour after Date is fresh",
                        {{"Date", "{date:0}"}, {"Expires", "{date:3600}"}}));
  cases.push_back(fresh("RFC 9111 §5.3, §4.2.1", "Expires in the future without Date is fresh",
                        {{"Expires", "{date:3600}"}}));
  cases.push_back(stale("RFC 9111 §5.3", "Expires in the past is stale",
                        {{"Date", "{date:0}"}, {"Expires", "{date:-3600}"}}));
  cases.push_back(stale("RFC 9111 §5.3", "Expires equal to Date is stale",
                        {{"Date", "{date:0}"}, {"Expires", "{date:0}"}}));
  for (const std::string value : {"0", "-1", "now", "", "Thu, 01 Jan 1970 00:00:00 GMT",
                                  "Mon, 32 Jan 2099 00:00:00 GMT", "Fri, 31 Dec 2099 25:00:00 GMT",
                                  "2099-12-31T00:00:00Z", "Fri, 31 Dec 2099 23:59:59",
                                  "Fri, 31 Dec 2099 23:59:59 UTC"}) {
    cases.push_back(stale("RFC 9111 §5.3, §4.2.1",
                          "invalid or past Expires '" + value + "' means already expired",
                          {{"Date", "{date:0}"}, {"Expires", value}}));
  }
  for (const std::string value : {"Fri, 31 Dec 2099 23:59:59 GMT", "Friday, 31-Dec-37 23:59:59 GMT",
                                  "Fri Dec 31 23:59:59 2099", "fri, 31 dec 2099 23:59:59 GMT",
                                  "Fri, 31 Dec 9999 23:59:59 GMT"}) {
    cases.push_back(fresh("RFC 9110 §5.6.7; RFC 9111 §5.3",
                          "far-future Expires in any HTTP-date format: " + value,
                          {{"Date", "{date:0}"}, {"Expires", value}}));
  }
  cases.push_back(stale("RFC 9111 §4.2.1", "two different Expires lines are treated as stale",
                        {{"Expires", "{date:3600}"}, {"Expires", "{date:7200}"}}));
  cases.push_back(stale("RFC 9111 §4.2.1",
                        "Expires is measured from Date, not the local clock: before Date is stale",
                        {{"Date", "{date:7200}"}, {"Expires", "{date:3600}"}}));
  cases.push_back(stale("RFC 9111 §4.2.1, §4.2.3",
                        "Expires an hour after a Date two hours ago, age included",
                        {{"Date", "{date:-7200}"}, {"Expires", "{date:-3600}"}, {"Age", "3700"}}));
  cases.push_back(stale("RFC 9111 §5.3", "invalid Date and past Expires",
                        {{"Date", "garbage"}, {"Expires", "{date:-10}"}}));
  return cases;
}

std::vector<Case> heuristic_cases() {
  std::vector<Case> cases;
  cases.push_back(fresh("RFC 9111 §4.2.2", "Last-Modified ten days ago gives a day of freshness",
                        {{"Date", "{date:0}"}, {"Last-Modified", "{date:-864000}"}}));
  cases.push_back(fresh("RFC 9111 §4.2.2", "heuristic without Date uses the receive time",
                        {{"Last-Modified", "{date:-864000}"}}));
  cases.push_back(stale("RFC 9111 §4.2.2",
                        "10% of (Date - Last-Modified): 10 s of freshness, 100 s old",
                        {{"Date", "{date:-100}"}, {"Last-Modified", "{date:-200}"}}));
  cases.push_back(fresh("RFC 9111 §4.2.2",
                        "10% of (Date - Last-Modified): 1000 s of freshness, 100 s old",
                        {{"Date", "{date:-100}"}, {"Last-Modified", "{date:-10100}"}}));
  cases.push_back(stale("RFC 9111 §4.2.2",
                        "the heuristic is capped (24 h): Last-Modified years ago, 2 days old",
                        {{"Date", "{date:-172800}"}, {"Last-Modified", "{date:-315360000}"}}));
  cases.push_back(stale("RFC 9111 §4.2.2", "Last-Modified after Date gives no freshness",
                        {{"Date", "{date:0}"}, {"Last-Modified", "{date:3600}"}}));
  cases.push_back(not_stored_case("RFC 9111 §4.2.2",
                                  "an invalid Last-Modified gives no heuristic freshness",
                                  answer(200, {{"Last-Modified", "yesterday"}})));
  cases.push_back(fresh("RFC 9111 §4.2.2; RFC 9110 §5.6.7",
                        "Last-Modified in RFC 850 format",
                        {{"Date", "{date:0}"}, {"Last-Modified", "Sunday, 06-Nov-94 08:49:37 GMT"}}));
  cases.push_back(fresh("RFC 9111 §4.2.2; RFC 9110 §5.6.7", "Last-Modified in asctime format",
                        {{"Date", "{date:0}"}, {"Last-Modified", "Sun Nov  6 08:49:37 1994"}}));
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 4.2: max-age", "[conformance][freshness]") {
  run_cases("max-age", max_age_cases());
}

TEST_CASE("RFC 9111 4.2.1: s-maxage over max-age over Expires", "[conformance][freshness]") {
  run_cases("precedence", precedence_cases());
}

TEST_CASE("RFC 9111 5.3: Expires", "[conformance][freshness]") {
  run_cases("expires", expires_cases());
}

TEST_CASE("RFC 9111 4.2.2: heuristic freshness", "[conformance][freshness]") {
  run_cases("heuristic", heuristic_cases());
}
