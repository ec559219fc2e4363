#include "cache/range.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// RFC 9110 §13.1.5: If-Range holds when its strong entity tag equals the stored strong tag,
// or its date equals a Last-Modified that is strong. §8.8.2.2: an intermediate cache may take
// the stored Last-Modified as strong when it is at least 60 seconds before the time the origin
// sent the response, its Date. Without a Date that time is when the response was received
// (`received`): RFC 9110 §6.6.1 has a recipient record the time of receipt in place of the
// missing Date, and the origin cannot have sent the response later than that.
bool if_range_holds(std::string_view condition, const Fields& stored, TimePoint received) {
  condition = trim(condition);
  if (condition.starts_with("W/")) return false;  // weak tags never match for ranges
  if (condition.starts_with('"')) {
    std::string_view etag = trim(stored[http::field::etag]);
    return !etag.starts_with("W/") && etag == condition;
  }
  std::optional<TimePoint> date = parse_http_date(condition);
  std::optional<TimePoint> last_modified = parse_http_date(stored[http::field::last_modified]);
  if (!date || !last_modified || *date != *last_modified) return false;
  // An invalid Date says nothing either: the time of receipt stands in for it too.
  const TimePoint sent = parse_http_date(stored[http::field::date]).value_or(received);
  return sent - *last_modified >= kStrongLastModifiedMargin;
}

}  // namespace

std::optional<std::vector<ByteRange>> parse_byte_ranges(std::string_view value,
                                                        std::uint64_t length) {
  value = trim(value);
  std::size_t eq = value.find('=');
  if (eq == std::string_view::npos || !iequal(trim(value.substr(0, eq)), "bytes")) {
    return std::nullopt;  // another range unit: ignored (RFC 9110 §14.2)
  }
  std::vector<std::string_view> specs = split_list(value.substr(eq + 1));
  if (specs.empty() || specs.size() > kMaxRanges) return std::nullopt;
  std::vector<ByteRange> ranges;
  for (std::string_view spec : specs) {
    std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view first_text = trim(spec.substr(0, dash));
    std::string_view last_text = trim(spec.substr(dash + 1));
    if (first_text.empty()) {
      // suffix-range: the last N bytes; "-0" is unsatisfiable.
      std::optional<std::uint64_t> suffix = digits(last_text);
      if (!suffix) return std::nullopt;
      if (*suffix == 0 || length == 0) continue;
      ranges.push_back({length - std::min(*suffix, length), length - 1});
      continue;
    }
    std::optional<std::uint64_t> first = digits(first_text);
    if (!first) return std::nullopt;
    std::optional<std::uint64_t> last;
    if (!last_text.empty()) {
      last = digits(last_text);
      if (!last || *last < *first) return std::nullopt;  // invalid: the field is ignored
    }
    if (*first >= length) continue;  // unsatisfiable on its own
    ranges.push_back({*first, std::min(last.value_or(length - 1), length - 1)});
  }
  return ranges;
}

RangeDecision evaluate_range(const Fields& request, unsigned status,
                             const Fields& response, std::uint64_t length,
                             TimePoint received) {
  RangeDecision decision;
  auto range = request.find(http::field::range);
  if (range == request.end() || status != 200) return decision;
  if (request.count(http::field::range) > 1) return decision;  // not a valid single field
  auto if_range = request.find(http::field::if_range);
  if (if_range != request.end() && !if_range_holds(if_range->value(), response, received)) {
    return decision;
  }
  std::optional<std::vector<ByteRange>> ranges = parse_byte_ranges(range->value(), length);
  if (!ranges) return decision;
  decision.outcome = ranges->empty() ? RangeOutcome::unsatisfiable : RangeOutcome::partial;
  decision.ranges = std::move(*ranges);
  return decision;
}

RangeDecision evaluate_range(const Fields& request, const EntryMeta& entry,
                             std::uint64_t length) {
  return evaluate_range(request, entry.status, entry.headers, length, entry.response_time);
}

std::optional<std::uint64_t> lowest_range_start(std::string_view value) {
  value = trim(value);
  std::size_t eq = value.find('=');
  if (eq == std::string_view::npos || !iequal(trim(value.substr(0, eq)), "bytes")) {
    return std::nullopt;
  }
  std::optional<std::uint64_t> lowest;
  for (std::string_view spec : split_list(value.substr(eq + 1))) {
    std::optional<std::uint64_t> first = digits(trim(spec.substr(0, spec.find('-'))));
    if (!first) return std::nullopt;
    lowest = std::min(lowest.value_or(*first), *first);
  }
  return lowest;
}

std::string content_range(const ByteRange& range, std::uint64_t length) {
  return fmt::format("bytes {}-{}/{}", range.first, range.last, length);
}

std::string unsatisfied_range(std::uint64_t length) { return fmt::format("bytes */{}", length); }

}  // namespace cacheproxy::cache
