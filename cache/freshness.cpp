#include "cache/freshness.hpp"

#include <algorithm>

namespace cacheproxy::cache {

namespace {

Seconds non_negative(TimePoint::duration d) {
  return std::max(Seconds{0}, std::chrono::floor<Seconds>(d));
}

Seconds heuristic_lifetime(const StoredFacts& facts, const HeuristicRules& rules) {
  if (!facts.last_modified) return Seconds{0};
  // RFC 9111 §4.2.2: "a typical setting of this fraction might be 10%" of the time since
  // Last-Modified, measured at Date; a Last-Modified after Date gives 0.
  const Seconds since_modified = non_negative(facts.date - *facts.last_modified);
  const double factor = std::max(0.0, rules.last_modified_factor);
  const double lifetime = std::min(factor * since_modified.count(),
                                   static_cast<double>(rules.max_lifetime.count()));
  // Squid's refresh_pattern min: a heuristic lifetime is never shorter (the cap wins over it).
  const double floor = std::min(static_cast<double>(rules.min_lifetime.count()),
                                static_cast<double>(rules.max_lifetime.count()));
  return Seconds{static_cast<Seconds::rep>(std::max({0.0, lifetime, floor}))};
}

}  // namespace

FreshnessLifetime freshness_lifetime(const StoredFacts& facts, const HeuristicRules& rules) {
  switch (facts.lifetime_source) {
    case LifetimeSource::s_maxage:
    case LifetimeSource::max_age:
    case LifetimeSource::expires:
      return {facts.explicit_lifetime, facts.lifetime_source};
    case LifetimeSource::heuristic:
      return {heuristic_lifetime(facts, rules), facts.lifetime_source};
    case LifetimeSource::none:
      break;
  }
  return {Seconds{0}, LifetimeSource::none};
}

FreshnessLifetime freshness_lifetime(const EntryMeta& entry, const HeuristicRules& rules) {
  return freshness_lifetime(stored_facts(entry), rules);
}

Seconds current_age(const EntryMeta& entry, const StoredFacts& facts, TimePoint now) {
  // RFC 9111 §4.2.3.
  const Seconds apparent_age = non_negative(entry.response_time - facts.date);
  const Seconds response_delay = non_negative(entry.response_time - entry.request_time);
  const Seconds corrected_age_value = facts.age_value + response_delay;
  const Seconds corrected_initial_age = std::max(apparent_age, corrected_age_value);
  const Seconds resident_time = non_negative(now - entry.response_time);
  return corrected_initial_age + resident_time;
}

Seconds current_age(const EntryMeta& entry, TimePoint now) {
  return current_age(entry, stored_facts(entry), now);
}

}  // namespace cacheproxy::cache
