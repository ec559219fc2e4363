// Pure freshness arithmetic (RFC 9111 §4.2). Time is always passed in.
#pragma once

#include "cache/entry.hpp"
#include "cache/stored_facts.hpp"

namespace cacheproxy::cache {

struct HeuristicRules {
  // RFC 9111 §4.2.2: a fraction of (Date - Last-Modified), as Squid's refresh_pattern percent.
  double last_modified_factor = 0.1;
  Seconds max_lifetime{86400};  // cap on a heuristic lifetime
  Seconds min_lifetime{0};      // floor of a heuristic lifetime (refresh_pattern min)
};

struct FreshnessLifetime {
  Seconds lifetime{0};
  LifetimeSource source = LifetimeSource::none;
};

// RFC 9111 §4.2.1: s-maxage, then max-age, then Expires - Date, then heuristic (only for
// heuristically cacheable status codes or public responses, with Last-Modified and no
// explicit expiry).
FreshnessLifetime freshness_lifetime(const EntryMeta& entry, const HeuristicRules& rules);
// The same from the entry's facts, parsed beforehand (stored_facts.hpp).
FreshnessLifetime freshness_lifetime(const StoredFacts& facts, const HeuristicRules& rules);

// RFC 9111 §4.2.3: corrected initial age plus resident time, never negative.
Seconds current_age(const EntryMeta& entry, TimePoint now);
// The same with the entry's facts parsed beforehand; `facts` must be stored_facts(entry).
Seconds current_age(const EntryMeta& entry, const StoredFacts& facts, TimePoint now);

}  // namespace cacheproxy::cache
