#include "cache/stored_facts.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cache/cached_object.hpp"
#include "cache/header_fields.hpp"
#include "cache/policy.hpp"

using namespace cacheproxy::cache;
using std::chrono::seconds;

namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

// 2024-01-01 00:00:00 UTC.
const TimePoint t0{seconds{1704067200}};

EntryMeta make_entry(unsigned status, const Lines& lines, TimePoint response_time = t0) {
  EntryMeta entry;
  entry.status = status;
  for (const auto& [name, value] : lines) entry.headers.insert(name, value);
  entry.request_time = response_time;
  entry.response_time = response_time;
  return entry;
}

}  // namespace

TEST_CASE("stored_facts reads Date, Age and the explicit lifetime once", "[stored_facts]") {
  const EntryMeta entry = make_entry(200, {{"Date", format_http_date(t0 - seconds{5})},
                                           {"Age", "7, 9"},
                                           {"Expires", format_http_date(t0 + seconds{95})},
                                           {"Cache-Control", "public, stale-if-error=30"}});
  const StoredFacts facts = stored_facts(entry);
  CHECK(facts.date == t0 - seconds{5});
  CHECK(facts.age_value == seconds{7});  // RFC 9111 §5.1: the first member
  CHECK(facts.lifetime_source == LifetimeSource::expires);
  CHECK(facts.explicit_lifetime == seconds{100});  // Expires - Date
  CHECK(facts.cache_control.public_);
  CHECK(facts.cache_control.stale_if_error == seconds{30});
  CHECK_FALSE(facts.has_validator);
  CHECK_FALSE(facts.last_modified);
  CHECK(facts.vary_names.empty());
}

TEST_CASE("stored_facts falls back to the receive time without a valid Date", "[stored_facts]") {
  const EntryMeta entry =
      make_entry(200, {{"Date", "yesterday"}, {"Age", "soon"}, {"ETag", "\"v1\""}},
                 t0 + seconds{3});
  const StoredFacts facts = stored_facts(entry);
  CHECK(facts.date == t0 + seconds{3});
  CHECK(facts.age_value == seconds{0});
  CHECK(facts.lifetime_source == LifetimeSource::none);
  CHECK(facts.has_validator);
}

TEST_CASE("stored_facts keeps Last-Modified for the heuristic and Vary's names", "[stored_facts]") {
  const EntryMeta entry =
      make_entry(200, {{"Date", format_http_date(t0)},
                       {"Last-Modified", format_http_date(t0 - seconds{1000})},
                       {"Vary", "User-Agent, accept-encoding"},
                       {"Vary", "Accept-Encoding"}});
  const StoredFacts facts = stored_facts(entry);
  CHECK(facts.lifetime_source == LifetimeSource::heuristic);
  REQUIRE(facts.last_modified);
  CHECK(*facts.last_modified == t0 - seconds{1000});
  CHECK(facts.has_validator);
  CHECK(facts.vary_names == std::vector<std::string>{"accept-encoding", "user-agent"});
  // The heuristic lifetime is computed from the facts with the rules in force at lookup.
  CHECK(freshness_lifetime(facts, HeuristicRules{}).lifetime == seconds{100});
  CHECK(freshness_lifetime(facts, HeuristicRules{0.5, seconds{86400}}).lifetime == seconds{500});
}

TEST_CASE("A memory-tier object carries its entry's facts", "[stored_facts]") {
  const CachedObjectPtr object = make_cached_object(
      make_entry(200, {{"Date", format_http_date(t0)}, {"Cache-Control", "max-age=60"}}), "body");
  CHECK(object->facts.lifetime_source == LifetimeSource::max_age);
  CHECK(object->facts.explicit_lifetime == seconds{60});
  CHECK(object->facts.date == t0);
}

TEST_CASE("evaluate_entry decides alike from parsed facts and from the entry", "[stored_facts]") {
  const EntryMeta entry = make_entry(200, {{"Date", format_http_date(t0)},
                                           {"Cache-Control", "max-age=60"},
                                           {"ETag", "\"a\""},
                                           {"Vary", "Accept"}});
  cacheproxy::Fields accept_html;
  accept_html.set("Accept", "text/html");
  EntryMeta stored = entry;
  stored.vary_request_headers = accept_html;
  const StoredFacts facts = stored_facts(stored);
  const PolicyConfig config;
  for (const auto offset : {seconds{0}, seconds{59}, seconds{60}, seconds{600}}) {
    for (const char* accept : {"text/html", "image/png"}) {
      cacheproxy::Fields request;
      request.set("Accept", accept);
      const RequestView view{http::verb::get, request};
      const LookupDecision direct = evaluate_entry(view, stored, t0 + offset, config);
      const LookupDecision from_facts = evaluate_entry(view, stored, facts, t0 + offset, config);
      CAPTURE(offset.count(), accept);
      CHECK(direct.action == from_facts.action);
      CHECK(direct.reason == from_facts.reason);
      CHECK(direct.age == from_facts.age);
    }
  }
  // And the decisions are the expected ones, not merely equal.
  cacheproxy::Fields request;
  request.set("Accept", "text/html");
  const RequestView view{http::verb::get, request};
  CHECK(evaluate_entry(view, stored, facts, t0 + seconds{59}, config).action == Action::serve);
  CHECK(evaluate_entry(view, stored, facts, t0 + seconds{60}, config).action ==
        Action::revalidate);
  request.set("Accept", "image/png");
  CHECK(evaluate_entry(view, stored, facts, t0, config).reason == Reason::vary_mismatch);
}
