// Pure parsing of the header fields that caching depends on (RFC 9111 §5, RFC 9110 §5.6).
#pragma once

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cacheproxy::cache {

// Response Cache-Control directives (RFC 9111 §5.2.2). Names are case-insensitive; a
// delta-seconds value that is malformed makes the directive count as present with 0
// (RFC 9111 §1.2.2 and §4.2.1: treat invalid freshness information as stale).
struct ResponseCacheControl {
  bool no_store = false;
  bool no_cache = false;          // unqualified no-cache: always revalidate
  bool private_ = false;          // unqualified private: a shared cache must not store
  bool public_ = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool no_transform = false;
  bool immutable = false;
  bool must_understand = false;
  std::optional<Seconds> max_age;
  std::optional<Seconds> s_maxage;
  // RFC 5861: how long past its lifetime the response may be served while it is revalidated
  // in the background, and when the origin fails.
  std::optional<Seconds> stale_while_revalidate;
  std::optional<Seconds> stale_if_error;
  // Qualified forms, field names lower-cased. no-cache="a, b" (RFC 9111 §5.2.2.4): the named
  // fields must not be sent without revalidation. private="a" (RFC 9111 §5.2.2.7): a shared
  // cache must not store the named fields. The qualified forms leave no_cache / private_ false.
  std::vector<std::string> no_cache_fields;
  std::vector<std::string> private_fields;
};

// Request Cache-Control directives (RFC 9111 §5.2.1), plus Pragma: no-cache when the
// request carries no Cache-Control (RFC 9111 §5.4).
struct RequestCacheControl {
  bool no_cache = false;
  bool no_store = false;
  bool only_if_cached = false;
  std::optional<Seconds> max_age;
  std::optional<Seconds> max_stale;  // present without a value: any staleness (Seconds::max())
  std::optional<Seconds> min_fresh;
  std::optional<Seconds> stale_if_error;  // RFC 5861 §4, in a request
};

ResponseCacheControl parse_response_cache_control(const Fields& headers);
RequestCacheControl parse_request_cache_control(const Fields& headers);

// Parses an HTTP-date in any of the three formats of RFC 9110 §5.6.7. nullopt if invalid.
// `now` places an RFC 850 two-digit year: more than 50 years after now's year means the
// century before.
std::optional<TimePoint> parse_http_date(std::string_view text, TimePoint now = Clock::now());
// Formats an IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(TimePoint t);
// The seconds since the epoch of text if it is an IMF-fixdate exactly as format_http_date
// writes it (the right day name, no leap second) in the years 1900 to 2106, else nullopt:
// what origins send, read without the general parser, and known to format back the same.
std::optional<std::int64_t> canonical_fixdate_seconds(std::string_view text);

// Parses delta-seconds (RFC 9111 §1.2.2): digits only; values too large saturate at 2^31.
std::optional<Seconds> parse_delta_seconds(std::string_view text);

// --- Field-value helpers shared by cache/ ---------------------------------------------

// The lines of one field, usable in a range-for (Beast's equal_range returns a pair).
struct FieldLines {
  Fields::const_iterator first;
  Fields::const_iterator last;
  Fields::const_iterator begin() const { return first; }
  Fields::const_iterator end() const { return last; }
};
FieldLines field_lines(const Fields& fields, std::string_view name);

// Calls f on each element of one list-based field value (RFC 9110 §5.6.1): the value is split
// at commas that are not inside a quoted-string, elements are trimmed of whitespace and empty
// elements skipped. The views point into `value`; nothing is allocated.
template <class F>
void for_each_list_element(std::string_view value, F&& f) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  bool in_quote = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || (value[i] == ',' && !in_quote)) {
      std::string_view element = value.substr(start, i - start);
      while (!element.empty() && is_space(element.front())) element.remove_prefix(1);
      while (!element.empty() && is_space(element.back())) element.remove_suffix(1);
      if (!element.empty()) f(element);
      start = i + 1;
    } else if (in_quote && value[i] == '\\') {
      ++i;  // quoted-pair: the next character is literal
    } else if (value[i] == '"') {
      in_quote = !in_quote;
    }
  }
}

// The elements for_each_list_element visits, collected.
std::vector<std::string_view> split_list(std::string_view value);

// All lines of field `name` as one list (RFC 9110 §5.3): elements trimmed and joined with
// ", ". nullopt when the field is absent, so an absent field differs from an empty one.
std::optional<std::string> combined_field_value(const Fields& fields, std::string_view name);

}  // namespace cacheproxy::cache
