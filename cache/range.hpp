// Range requests answered from a complete stored response (RFC 9110 §14): parsing the Range
// field, If-Range (§13.1.5), and which byte ranges to send. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t size() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

enum class RangeOutcome {
  full,           // no (usable) Range, or If-Range failed: send the whole representation, 200
  partial,        // 206 with `ranges` (one: Content-Range; several: multipart/byteranges)
  unsatisfiable,  // 416 with Content-Range: bytes */length
};

struct RangeDecision {
  RangeOutcome outcome = RangeOutcome::full;
  std::vector<ByteRange> ranges;
};

// More ranges than this in one request are ignored (the whole representation is sent), as
// RFC 9110 §14.2 allows, against request amplification.
inline constexpr std::size_t kMaxRanges = 32;

// RFC 9110 §14.1.1: parses "bytes=0-99, 200-, -50" against a representation of `length`
// bytes. nullopt when the field is not a valid bytes range set (the caller ignores Range);
// otherwise the satisfiable ranges, clamped to the length, in request order (empty: 416).
std::optional<std::vector<ByteRange>> parse_byte_ranges(std::string_view value,
                                                        std::uint64_t length);

// RFC 9110 §8.8.2.2: a cache takes a stored Last-Modified as a strong validator (usable by
// If-Range) when it is at least this long before the response's Date.
inline constexpr Seconds kStrongLastModifiedMargin{60};

// RFC 9110 §14.2 and §13.1.5 for a request to be answered from `entry` (a complete 200
// response of `length` bytes). An entry without Date counts as sent when it was received
// (its response_time).
RangeDecision evaluate_range(const Fields& request, const EntryMeta& entry,
                             std::uint64_t length);

// The same, for a response still arriving: its header fields, announced length, and when its
// header was received (in place of a missing Date).
RangeDecision evaluate_range(const Fields& request, unsigned status,
                             const Fields& response, std::uint64_t length,
                             TimePoint received);

// The lowest first-byte-pos of a bytes Range value; nullopt if it is not one or holds a
// suffix range (whose start depends on the unknown length).
std::optional<std::uint64_t> lowest_range_start(std::string_view value);

// "bytes 0-99/1000" and "bytes */1000" (RFC 9110 §14.4).
std::string content_range(const ByteRange& range, std::uint64_t length);
std::string unsatisfied_range(std::uint64_t length);

}  // namespace cacheproxy::cache
