#include "cache/serving_stale.hpp"

#include <algorithm>

#include "cache/cache_control.hpp"

namespace cacheproxy::cache {

Seconds staleness(const EntryMeta& entry, TimePoint now, const PolicyConfig& config) {
  const Seconds age = current_age(entry, now);
  const Seconds lifetime = freshness_lifetime(entry, config.heuristic).lifetime;
  return age > lifetime ? age - lifetime : Seconds{0};
}

bool stale_forbidden(const RequestView& request, const EntryMeta& entry) {
  const ResponseCacheControl res = parse_response_cache_control(entry.headers);
  // A qualified no-cache="f" is no obstacle: f is left out of whatever is served unvalidated.
  if (res.no_cache || res.must_revalidate || res.proxy_revalidate || res.s_maxage) {
    return true;
  }
  const RequestCacheControl req = parse_request_cache_control(request.headers);
  return req.no_cache || req.min_fresh.has_value();
}

bool gateway_timeout_when_unreachable(const EntryMeta& entry, TimePoint now,
                                      const PolicyConfig& config) {
  const ResponseCacheControl res = parse_response_cache_control(entry.headers);
  if (!(res.must_revalidate || res.proxy_revalidate || res.s_maxage)) return false;
  // RFC 9111 §4.2: stale once the current age reaches the freshness lifetime.
  return current_age(entry, now) >= freshness_lifetime(entry, config.heuristic).lifetime;
}

bool stale_while_revalidate_allowed(const RequestView& request, const EntryMeta& entry,
                                    TimePoint now, const PolicyConfig& config) {
  if (stale_forbidden(request, entry)) return false;
  const ResponseCacheControl res = parse_response_cache_control(entry.headers);
  if (!res.stale_while_revalidate) return false;
  // RFC 9111 §5.2.1.1: a client's max-age is a limit on age, which a stale answer ignores.
  const RequestCacheControl req = parse_request_cache_control(request.headers);
  if (req.max_age && current_age(entry, now) > *req.max_age) return false;
  return staleness(entry, now, config) <= *res.stale_while_revalidate;
}

bool stale_if_error_allowed(const RequestView& request, const EntryMeta& entry, TimePoint now,
                            const PolicyConfig& config, bool offline_mode) {
  if (stale_forbidden(request, entry)) return false;
  if (offline_mode) return true;
  const ResponseCacheControl res = parse_response_cache_control(entry.headers);
  const RequestCacheControl req = parse_request_cache_control(request.headers);
  // RFC 5861 §4: either side may grant it; the wider window applies.
  std::optional<Seconds> window = res.stale_if_error;
  if (req.stale_if_error) window = std::max(window.value_or(Seconds{0}), *req.stale_if_error);
  return window && staleness(entry, now, config) <= *window;
}

}  // namespace cacheproxy::cache
