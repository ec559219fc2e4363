#include "cache/stored_facts.hpp"

#include <algorithm>
#include <array>

#include "cache/header_fields.hpp"
#include "cache/variants.hpp"

namespace cacheproxy::cache {

namespace {

// RFC 9110 §15.1: "heuristically cacheable" status codes.
constexpr std::array<unsigned, 12> heuristic_statuses{200, 203, 204, 206, 300, 301,
                                                      308, 404, 405, 410, 414, 501};

Seconds non_negative(TimePoint::duration d) {
  return std::max(Seconds{0}, std::chrono::floor<Seconds>(d));
}

LifetimeSource select_source(unsigned status, const ResponseCacheControl& cc,
                             const Fields& headers,
                             const std::optional<TimePoint>& last_modified) {
  // RFC 9111 §4.2.1: a shared cache uses s-maxage, then max-age, then Expires.
  if (cc.s_maxage) return LifetimeSource::s_maxage;
  if (cc.max_age) return LifetimeSource::max_age;
  // A present but invalid Expires still counts: it means "already expired" (RFC 9111 §5.3).
  if (headers.count(http::field::expires) > 0) return LifetimeSource::expires;
  // RFC 9111 §4.2.2: heuristic only without explicit expiry, for heuristically cacheable
  // status codes and for responses marked public (§5.2.2.9). We base it on Last-Modified, so
  // without a valid one there is no heuristic.
  if ((heuristically_cacheable(status) || cc.public_) && last_modified) {
    return LifetimeSource::heuristic;
  }
  return LifetimeSource::none;
}

Seconds expires_lifetime(const Fields& headers, TimePoint date) {
  const FieldLines lines = field_lines(headers, "expires");
  // RFC 9111 §4.2.1: with more than one Expires line, use the first or treat the response
  // as stale. Conflicting lines make it stale (conservative); identical repeats do not.
  for (const auto& line : lines) {
    if (line.value() != lines.begin()->value()) return Seconds{0};
  }
  // RFC 9111 §5.3: an invalid Expires, "0" in particular, means already expired.
  const auto expires = parse_http_date(lines.begin()->value());
  if (!expires) return Seconds{0};
  return non_negative(*expires - date);
}

Seconds age_value(const Fields& headers) {
  // RFC 9111 §5.1: of a list-valued Age (or several lines) the first member is used, and an
  // invalid value is ignored.
  if (const auto combined = combined_field_value(headers, "age")) {
    const auto members = split_list(*combined);
    if (!members.empty()) return parse_delta_seconds(members.front()).value_or(Seconds{0});
  }
  return Seconds{0};
}

}  // namespace

bool heuristically_cacheable(unsigned status) {
  return std::find(heuristic_statuses.begin(), heuristic_statuses.end(), status) !=
         heuristic_statuses.end();
}

LifetimeSource lifetime_source(unsigned status, const Fields& headers) {
  return lifetime_source(status, parse_response_cache_control(headers), headers);
}

LifetimeSource lifetime_source(unsigned status, const ResponseCacheControl& cc,
                               const Fields& headers) {
  // Last-Modified counts only without explicit expiry (most cacheable responses have it):
  // parsed only then, as it is asked once per miss.
  const LifetimeSource explicit_source = select_source(status, cc, headers, std::nullopt);
  if (explicit_source != LifetimeSource::none) return explicit_source;
  return select_source(status, cc, headers, parse_http_date(headers[http::field::last_modified]));
}

bool has_validator(const Fields& headers) {
  return !headers[http::field::etag].empty() ||
         parse_http_date(headers[http::field::last_modified]).has_value();
}

StoredFacts stored_facts(const EntryMeta& entry) {
  const Fields& headers = entry.headers;
  StoredFacts facts;
  facts.cache_control = parse_response_cache_control(headers);
  facts.date = parse_http_date(headers[http::field::date]).value_or(entry.response_time);
  facts.age_value = age_value(headers);
  facts.last_modified = parse_http_date(headers[http::field::last_modified]);
  facts.lifetime_source =
      select_source(entry.status, facts.cache_control, headers, facts.last_modified);
  switch (facts.lifetime_source) {
    case LifetimeSource::s_maxage:
      facts.explicit_lifetime = *facts.cache_control.s_maxage;
      break;
    case LifetimeSource::max_age:
      facts.explicit_lifetime = *facts.cache_control.max_age;
      break;
    case LifetimeSource::expires:
      facts.explicit_lifetime = expires_lifetime(headers, facts.date);
      break;
    case LifetimeSource::heuristic:
    case LifetimeSource::none:
      break;
  }
  facts.has_validator = !headers[http::field::etag].empty() || facts.last_modified.has_value();
  facts.vary_names = vary_field_names(headers);
  return facts;
}

}  // namespace cacheproxy::cache
