// What the caching policy reads from a stored response's header fields, parsed once.
//
// Deciding whether a stored response may answer a request (RFC 9111 §4) needs its
// Cache-Control directives, Date, Age, Expires, Last-Modified, validators and Vary. A memory-tier
// object keeps these facts beside its fields (CachedObject::facts), so a memory hit evaluates
// freshness without parsing any field again; an entry read from disk has them parsed when it is
// evaluated. Pure: a function of the entry alone, nothing here depends on configuration or time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cache/cache_control.hpp"
#include "cache/entry.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

// Which rule of RFC 9111 §4.2.1 gives a response its freshness lifetime.
enum class LifetimeSource { s_maxage, max_age, expires, heuristic, none };

struct StoredFacts {
  ResponseCacheControl cache_control;
  // The Date field, or the time the response was received when Date is absent or invalid
  // (RFC 9110 §6.6.1).
  TimePoint date{};
  // RFC 9111 §5.1: the first member of Age; 0 when absent or invalid.
  Seconds age_value{0};
  LifetimeSource lifetime_source = LifetimeSource::none;
  // The lifetime s-maxage, max-age or Expires gives (for those sources; 0 otherwise).
  Seconds explicit_lifetime{0};
  // A valid Last-Modified, the base of a heuristic lifetime (RFC 9111 §4.2.2).
  std::optional<TimePoint> last_modified;
  // An entity tag or a valid Last-Modified: a conditional request can be built.
  bool has_validator = false;
  // RFC 9111 §4.1: the field names Vary lists (as vary_field_names: lower-cased, sorted,
  // without repeats, "*" kept).
  std::vector<std::string> vary_names;
};

StoredFacts stored_facts(const EntryMeta& entry);

// RFC 9110 §15.1 / RFC 9111 §4.2.2: status codes whose responses may get a heuristic lifetime
// (200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501).
bool heuristically_cacheable(unsigned status);

// Which rule of RFC 9111 §4.2.1 applies to a response, without computing the lifetime;
// LifetimeSource::none when the response has neither explicit expiry nor a heuristic one.
LifetimeSource lifetime_source(unsigned status, const Fields& headers);
// The same for a caller that has the response's Cache-Control parsed already.
LifetimeSource lifetime_source(unsigned status, const ResponseCacheControl& cc,
                               const Fields& headers);

// A strong or weak entity tag, or a valid Last-Modified: something a conditional request
// can be built from (RFC 9110 §13.1.1, §13.1.3).
bool has_validator(const Fields& headers);

}  // namespace cacheproxy::cache
