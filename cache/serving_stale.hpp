// When a stale stored response may still answer (RFC 9111 §4.2.4, RFC 5861): while it is
// revalidated in the background (stale-while-revalidate), and when the origin cannot give a
// usable answer (stale-if-error, or the proxy's offline_mode). Pure: time is passed in.
#pragma once

#include "cache/entry.hpp"
#include "cache/policy.hpp"

namespace cacheproxy::cache {

// How far past its freshness lifetime the entry is at `now` (0 while fresh).
Seconds staleness(const EntryMeta& entry, TimePoint now, const PolicyConfig& config);

// RFC 9111 §4.2.4: a cache must not serve stale when a directive forbids it — response
// no-cache (unqualified: no-cache="f" only withholds f, §5.2.2.4), must-revalidate,
// proxy-revalidate, or s-maxage (which implies proxy-revalidate for a shared cache,
// §5.2.2.10) — nor to a request that wants a validated or still-fresh response (no-cache,
// min-fresh).
bool stale_forbidden(const RequestView& request, const EntryMeta& entry);

// RFC 5861 §3: a stale entry within its stale-while-revalidate window answers at once while
// a background request revalidates it.
bool stale_while_revalidate_allowed(const RequestView& request, const EntryMeta& entry,
                                    TimePoint now, const PolicyConfig& config);

// RFC 9111 §5.2.2.2: a stale entry with must-revalidate — or proxy-revalidate (§5.2.2.8) or
// s-maxage (§5.2.2.10), their shared-cache forms — that cannot be revalidated because the
// origin is unreachable gets an error, not the stale response, and that error SHOULD be 504
// (Gateway Timeout). True when `entry` is such an entry at `now`.
bool gateway_timeout_when_unreachable(const EntryMeta& entry, TimePoint now,
                                      const PolicyConfig& config);

// RFC 5861 §4: the origin is unreachable, timed out or answered 5xx: a stale entry within
// the response's or the request's stale-if-error window answers instead. offline_mode (a
// flaky uplink, RFC 9111 §4.2.4 "disconnected") allows any staleness; neither overrides
// stale_forbidden().
bool stale_if_error_allowed(const RequestView& request, const EntryMeta& entry, TimePoint now,
                            const PolicyConfig& config, bool offline_mode);

}  // namespace cacheproxy::cache
