// RFC 9111 §4.2.3 (calculating age) and §5.1 (the Age field), over sockets.
#include <catch2/catch.hpp>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

// Two GETs, the second a hit whose Age must satisfy `checks`.
Case hit_with_age(std::string rfc, std::string name, Fields headers,
                  std::vector<FieldCheck> checks) {
  Step second = get().expect_body("payload").origin(1);
  for (auto& c : checks) second.expect(std::move(c));
  return Case{std::move(rfc), std::move(name), {answer(200, std::move(headers))},
              {get().origin(1), second}};
}

Case stale_by_age(std::string rfc, std::string name, Fields headers) {
  headers.emplace_back("ETag", "\"a\"");
  return Case{std::move(rfc),
              std::move(name),
              {answer(200, std::move(headers)), answer(304, {{"ETag", "\"a\""}}, "")},
              {get().origin(1), get().expect_body("payload").origin(2).origin_got(
                                    is("If-None-Match", "\"a\""))}};
}

std::vector<Case> age_cases() {
  std::vector<Case> cases;
  cases.push_back(hit_with_age("RFC 9111 §5.1, §4", "a hit carries Age",
                               {{"Cache-Control", "max-age=3600"}}, {at_least("Age", 0), below("Age", 30)}));
  cases.push_back(hit_with_age("RFC 9111 §4.2.3", "the origin's Age is carried into the current age",
                               {{"Cache-Control", "max-age=3600"}, {"Age", "100"}},
                               {at_least("Age", 100), below("Age", 130)}));
  cases.push_back(hit_with_age("RFC 9111 §4.2.3", "apparent age from a Date in the past",
                               {{"Cache-Control", "max-age=3600"}, {"Date", "{date:-500}"}},
                               {at_least("Age", 500), below("Age", 530)}));
  cases.push_back(hit_with_age("RFC 9111 §4.2.3",
                               "the larger of apparent age and corrected Age wins",
                               {{"Cache-Control", "max-age=3600"}, {"Date", "{date:-500}"}, {"Age", "50"}},
                               {at_least("Age", 500), below("Age", 530)}));
  cases.push_back(hit_with_age("RFC 9111 §4.2.3",
                               "the larger of apparent age and corrected Age wins (Age larger)",
                               {{"Cache-Control", "max-age=3600"}, {"Date", "{date:-50}"}, {"Age", "900"}},
                               {at_least("Age", 900), below("Age", 930)}));
  cases.push_back(hit_with_age("RFC 9111 §4.2.3", "a Date in the future gives no negative age",
                               {{"Cache-Control", "max-age=3600"}, {"Date", "{date:1000}"}},
                               {at_least("Age", 0), below("Age", 30)}));
  for (const std::string value : {"abc", "-5", "1.5", "", "0x10", "10s"}) {
    cases.push_back(hit_with_age("RFC 9111 §5.1", "an invalid Age '" + value + "' is ignored",
                                 {{"Cache-Control", "max-age=60"}, {"Age", value}},
                                 {at_least("Age", 0), below("Age", 30)}));
  }
  cases.push_back(hit_with_age("RFC 9111 §5.1", "a list-valued Age: the first member is used",
                               {{"Cache-Control", "max-age=600"}, {"Age", "100, 5000"}},
                               {at_least("Age", 100), below("Age", 130)}));
  cases.push_back(hit_with_age("RFC 9111 §5.1", "two Age lines: the first is used",
                               {{"Cache-Control", "max-age=600"}, {"Age", "100"}, {"Age", "5000"}},
                               {at_least("Age", 100), below("Age", 130)}));
  cases.push_back(stale_by_age("RFC 9111 §4.2, §4.2.3", "Age beyond max-age on arrival is stale",
                               {{"Cache-Control", "max-age=50"}, {"Age", "100"}}));
  cases.push_back(stale_by_age("RFC 9111 §1.2.2, §4.2.3", "a huge Age saturates and is stale",
                               {{"Cache-Control", "max-age=3600"}, {"Age", "99999999999999999999"}}));
  cases.push_back(stale_by_age("RFC 9111 §4.2.3", "an old Date makes the response stale on arrival",
                               {{"Cache-Control", "max-age=50"}, {"Date", "{date:-100}"}}));
  // Resident time: one of the suite's few sleeps.
  cases.push_back(Case{"RFC 9111 §4.2.3", "resident time adds to the age",
                       {answer(200, {{"Cache-Control", "max-age=3600"}, {"Date", "{date:0}"}, {"Age", "0"}})},
                       {get().origin(1), get().after_ms(1100).expect(at_least("Age", 1)).origin(1)}});
  // The Age sent is whole seconds (RFC 9111 §1.2.2: delta-seconds).
  cases.push_back(hit_with_age("RFC 9111 §5.1, §1.2.2", "Age is a non-negative integer",
                               {{"Cache-Control", "max-age=3600"}, {"Age", "7"}},
                               {at_least("Age", 7), lines("Age", 1)}));
  // After a 304 the age starts from the 304's Date, not the old response's.
  cases.push_back(Case{"RFC 9111 §4.3.4, §4.2.3", "after a 304 the age restarts from the new Date",
                       {answer(200, {{"Cache-Control", "max-age=60"}, {"Date", "{date:-1000}"}, {"ETag", "\"r\""}}),
                        answer(304, {{"ETag", "\"r\""}, {"Date", "{date:0}"}}, "")},
                       {get().origin(1),
                        get().expect_body("payload").expect(below("Age", 30)).origin(2),
                        get().expect_body("payload").expect(below("Age", 30)).origin(2)}});
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 4.2.3 and 5.1: age", "[conformance][age]") { run_cases("age", age_cases()); }
