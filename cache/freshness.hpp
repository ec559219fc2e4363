// Pure freshness arithmetic (RFC 9111 §4.2). Time is always passed in.
#pragma once

#include "cache/entry.hpp"

namespace cacheproxy::cache {

struct HeuristicRules {
  // RFC 9111 §4.2.2: a fraction of (Date - Last-Modified), as Squid's refresh_pattern percent.
  double last_modified_factor = 0.1;
  Seconds max_lifetime{86400};  // cap on a heuristic lifetime
  Seconds min_lifetime{0};      // floor of a heuristic lifetime (refresh_pattern min)
};

enum class LifetimeSource { s_maxage, max_age, expires, heuristic, none };

struct FreshnessLifetime {
  Seconds lifetime{0};
  LifetimeSource source = LifetimeSource::none;
};

// RFC 9111 §4.2.1: s-maxage, then max-age, then Expires - Date, then heuristic (only for
// heuristically cacheable status codes or public responses, with Last-Modified and no
// explicit expiry).
FreshnessLifetime freshness_lifetime(const EntryMeta& entry, const HeuristicRules& rules);

// RFC 9110 §15.1 / RFC 9111 §4.2.2: status codes whose responses may get a heuristic lifetime
// (200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501).
bool heuristically_cacheable(unsigned status);

// Which rule of freshness_lifetime applies to a response, without computing the lifetime;
// LifetimeSource::none when the response has neither explicit expiry nor a heuristic one.
LifetimeSource lifetime_source(unsigned status, const http::fields& headers);

// RFC 9111 §4.2.3: corrected initial age plus resident time, never negative.
Seconds current_age(const EntryMeta& entry, TimePoint now);

}  // namespace cacheproxy::cache
