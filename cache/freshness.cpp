#include "cache/freshness.hpp"

#include <algorithm>
#include <array>

#include "cache/cache_control.hpp"

namespace cacheproxy::cache {

namespace {

// RFC 9110 §15.1: "heuristically cacheable" status codes.
constexpr std::array<unsigned, 12> heuristic_statuses{200, 203, 204, 206, 300, 301,
                                                      308, 404, 405, 410, 414, 501};

Seconds non_negative(TimePoint::duration d) {
  return std::max(Seconds{0}, std::chrono::floor<Seconds>(d));
}

// The Date of the response, or the time it was received when Date is absent or invalid
// (RFC 9110 §6.6.1: a recipient with a clock adds the receive time when Date is missing).
TimePoint date_value(const http::fields& headers, TimePoint response_time) {
  return parse_http_date(headers[http::field::date]).value_or(response_time);
}

LifetimeSource select_source(unsigned status, const ResponseCacheControl& cc,
                             const http::fields& headers) {
  // RFC 9111 §4.2.1: a shared cache uses s-maxage, then max-age, then Expires.
  if (cc.s_maxage) return LifetimeSource::s_maxage;
  if (cc.max_age) return LifetimeSource::max_age;
  // A present but invalid Expires still counts: it means "already expired" (RFC 9111 §5.3).
  if (headers.count(http::field::expires) > 0) return LifetimeSource::expires;
  // RFC 9111 §4.2.2: heuristic only without explicit expiry, for heuristically cacheable
  // status codes and for responses marked public (§5.2.2.9). We base it on Last-Modified, so
  // without a valid one there is no heuristic.
  if ((heuristically_cacheable(status) || cc.public_) &&
      parse_http_date(headers[http::field::last_modified]).has_value()) {
    return LifetimeSource::heuristic;
  }
  return LifetimeSource::none;
}

Seconds expires_lifetime(const EntryMeta& entry) {
  const FieldLines lines = field_lines(entry.headers, "expires");
  // RFC 9111 §4.2.1: with more than one Expires line, use the first or treat the response
  // as stale. Conflicting lines make it stale (conservative); identical repeats do not.
  for (const auto& line : lines) {
    if (line.value() != lines.begin()->value()) return Seconds{0};
  }
  // RFC 9111 §5.3: an invalid Expires, "0" in particular, means already expired.
  const auto expires = parse_http_date(lines.begin()->value());
  if (!expires) return Seconds{0};
  return non_negative(*expires - date_value(entry.headers, entry.response_time));
}

Seconds heuristic_lifetime(const EntryMeta& entry, const HeuristicRules& rules) {
  const auto last_modified = parse_http_date(entry.headers[http::field::last_modified]);
  if (!last_modified) return Seconds{0};
  // RFC 9111 §4.2.2: "a typical setting of this fraction might be 10%" of the time since
  // Last-Modified, measured at Date; a Last-Modified after Date gives 0.
  const Seconds since_modified =
      non_negative(date_value(entry.headers, entry.response_time) - *last_modified);
  const double factor = std::max(0.0, rules.last_modified_factor);
  const double lifetime = std::min(factor * since_modified.count(),
                                   static_cast<double>(rules.max_lifetime.count()));
  // Squid's refresh_pattern min: a heuristic lifetime is never shorter (the cap wins over it).
  const double floor = std::min(static_cast<double>(rules.min_lifetime.count()),
                                static_cast<double>(rules.max_lifetime.count()));
  return Seconds{static_cast<Seconds::rep>(std::max({0.0, lifetime, floor}))};
}

}  // namespace

bool heuristically_cacheable(unsigned status) {
  return std::find(heuristic_statuses.begin(), heuristic_statuses.end(), status) !=
         heuristic_statuses.end();
}

LifetimeSource lifetime_source(unsigned status, const http::fields& headers) {
  return select_source(status, parse_response_cache_control(headers), headers);
}

FreshnessLifetime freshness_lifetime(const EntryMeta& entry, const HeuristicRules& rules) {
  const ResponseCacheControl cc = parse_response_cache_control(entry.headers);
  const LifetimeSource source = select_source(entry.status, cc, entry.headers);
  switch (source) {
    case LifetimeSource::s_maxage:
      return {*cc.s_maxage, source};
    case LifetimeSource::max_age:
      return {*cc.max_age, source};
    case LifetimeSource::expires:
      return {expires_lifetime(entry), source};
    case LifetimeSource::heuristic:
      return {heuristic_lifetime(entry, rules), source};
    case LifetimeSource::none:
      break;
  }
  return {Seconds{0}, LifetimeSource::none};
}

Seconds current_age(const EntryMeta& entry, TimePoint now) {
  // RFC 9111 §4.2.3, with age_value as §5.1 says: of a list-valued Age (or several lines)
  // the first member is used, and an invalid value is ignored.
  Seconds age_value{0};
  if (const auto combined = combined_field_value(entry.headers, "age")) {
    const auto members = split_list(*combined);
    if (!members.empty()) age_value = parse_delta_seconds(members.front()).value_or(Seconds{0});
  }
  const Seconds apparent_age =
      non_negative(entry.response_time - date_value(entry.headers, entry.response_time));
  const Seconds response_delay = non_negative(entry.response_time - entry.request_time);
  const Seconds corrected_age_value = age_value + response_delay;
  const Seconds corrected_initial_age = std::max(apparent_age, corrected_age_value);
  const Seconds resident_time = non_negative(now - entry.response_time);
  return corrected_initial_age + resident_time;
}

}  // namespace cacheproxy::cache
