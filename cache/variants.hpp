// Vary (RFC 9111 §4.1): several stored responses for one URL, side by side, each selected by
// the request header fields its Vary nominates.
//
// Layout in any Store: the URL key holds either a plain entry, or a *Vary marker*: a bodyless
// entry (status 0) keeping the response's Vary field and a random nonce. Each variant lives
// under variant_key() = URL key, '\x1f', nonce, '/', hash of the secondary key. Erasing the
// marker (invalidation, RFC 9111 §4.4) makes every variant unreachable at once: the next
// marker has a new nonce, so old variant keys are never looked up again and the eviction
// order reclaims them. A hash collision cannot serve a wrong variant: evaluate_entry()
// still compares the stored request fields (vary_matches).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

// The status a Vary marker is stored with: no HTTP response has it.
inline constexpr unsigned kVaryMarkerStatus = 0;

bool is_vary_marker(const EntryMeta& meta);

// RFC 9111 §4.1: the field names listed by Vary, lower-cased, sorted, without repeats; "*"
// is kept as an element.
std::vector<std::string> vary_field_names(const Fields& response_headers);

// The secondary key of a request for these Vary names: each nominated field's combined value
// (RFC 9110 §5.3, list whitespace normalized, names case-insensitive), absent distinct from
// empty.
std::string secondary_key(const std::vector<std::string>& names,
                          const Fields& request_headers);

// A marker for a response with Vary (not "*"); the nonce names its generation of variants.
EntryMeta make_vary_marker(const Fields& response_headers, std::uint64_t nonce,
                           TimePoint now);

// Whether a response with these header fields is filed under `marker` (same Vary names).
bool marker_fits(const EntryMeta& marker, const Fields& response_headers);

// The start of every variant key of `url_key`, under any marker it has had: erasing the keys
// with this prefix removes all its variants from a store (invalidation, RFC 9111 §4.4). No
// other URL key starts with it (a normalized URL holds no control character).
std::string variants_prefix(std::string_view url_key);

// Where the variant a request selects is stored under `marker`.
std::string variant_key(std::string_view url_key, const EntryMeta& marker,
                        const Fields& request_headers);

}  // namespace cacheproxy::cache
