#include "cache/cache_control.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "cache/direct_mapped_memo.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

namespace {

constexpr std::string_view whitespace = " \t";

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(whitespace);
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(whitespace);
  return s.substr(first, last - first + 1);
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), to_lower);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ---------------------------------------------------------------------------------------
// Cache-Control directives (RFC 9111 §5.2): token [ "=" ( token / quoted-string ) ].

struct Directive {
  std::string name;  // lower-cased
  std::optional<std::string> argument;
};

// RFC 9110 §5.6.4: quoted-string with quoted-pair. An unterminated string keeps what it has.
std::string unquote(std::string_view s) {
  std::string out;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.push_back(s[++i]);
    } else if (s[i] == '"') {
      break;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Directive parse_directive(std::string_view element) {
  const auto eq = element.find('=');
  Directive d{lower(trim(element.substr(0, eq))), std::nullopt};
  if (eq != std::string_view::npos) {
    const std::string_view arg = trim(element.substr(eq + 1));
    // RFC 9111 §5.2: recipients ought to accept both the token and the quoted-string form.
    d.argument = (!arg.empty() && arg.front() == '"') ? unquote(arg) : std::string(arg);
  }
  return d;
}

std::vector<Directive> parse_directives(const Fields& headers) {
  std::vector<Directive> out;
  for (const auto& line : field_lines(headers, "cache-control")) {
    for (std::string_view element : split_list(line.value())) {
      out.push_back(parse_directive(element));
    }
  }
  return out;
}

// What to do when a delta-seconds directive appears more than once.
enum class Duplicate {
  // RFC 9111 §4.2.1: "either the first occurrence should be used or the response should be
  // considered stale". We take the conservative branch: conflicting values make the
  // directive 0 (stale); a repeated identical value is no conflict and is kept.
  stale_if_different,
  keep_smaller,  // request limits: the most restrictive one wins
  keep_larger,
};

Seconds merge_duplicate(Duplicate rule, Seconds previous, Seconds next) {
  switch (rule) {
    case Duplicate::stale_if_different:
      return previous == next ? previous : Seconds{0};
    case Duplicate::keep_smaller:
      return std::min(previous, next);
    case Duplicate::keep_larger:
      return std::max(previous, next);
  }
  return Seconds{0};
}

template <class CC>
struct FlagDirective {
  std::string_view name;
  bool CC::*member;
};

template <class CC>
struct DeltaDirective {
  std::string_view name;
  std::optional<Seconds> CC::*member;
  Duplicate duplicate;
  // Value when the directive has no argument; nullopt: the argument is required and its
  // absence is malformed, i.e. 0 (RFC 9111 §1.2.2).
  std::optional<Seconds> without_argument;
};

// A directive whose argument, when present, is a list of field names.
struct QualifiedDirective {
  std::string_view name;
  bool ResponseCacheControl::*unqualified;
  std::vector<std::string> ResponseCacheControl::*fields;
};

using Res = ResponseCacheControl;
using Req = RequestCacheControl;

// RFC 9111 §5.2.2. Arguments of these directives are ignored.
constexpr std::array<FlagDirective<Res>, 7> response_flags{{
    {"no-store", &Res::no_store},
    {"public", &Res::public_},
    {"must-revalidate", &Res::must_revalidate},
    {"proxy-revalidate", &Res::proxy_revalidate},
    {"no-transform", &Res::no_transform},
    {"immutable", &Res::immutable},  // RFC 8246
    {"must-understand", &Res::must_understand},
}};

constexpr std::array<DeltaDirective<Res>, 4> response_deltas{{
    {"max-age", &Res::max_age, Duplicate::stale_if_different, std::nullopt},
    {"s-maxage", &Res::s_maxage, Duplicate::stale_if_different, std::nullopt},
    // RFC 5861 §3 and §4: extensions that only ever widen what may be served stale, so a
    // repeated directive keeps the smaller (more careful) value.
    {"stale-while-revalidate", &Res::stale_while_revalidate, Duplicate::keep_smaller,
     std::nullopt},
    {"stale-if-error", &Res::stale_if_error, Duplicate::keep_smaller, std::nullopt},
}};

// RFC 9111 §5.2.2.4 and §5.2.2.7.
constexpr std::array<QualifiedDirective, 2> response_qualified{{
    {"no-cache", &Res::no_cache, &Res::no_cache_fields},
    {"private", &Res::private_, &Res::private_fields},
}};

// RFC 9111 §5.2.1. The request no-cache directive takes no argument; one is ignored.
constexpr std::array<FlagDirective<Req>, 3> request_flags{{
    {"no-cache", &Req::no_cache},
    {"no-store", &Req::no_store},
    {"only-if-cached", &Req::only_if_cached},
}};

constexpr std::array<DeltaDirective<Req>, 4> request_deltas{{
    {"stale-if-error", &Req::stale_if_error, Duplicate::keep_smaller, std::nullopt},
    {"max-age", &Req::max_age, Duplicate::keep_smaller, std::nullopt},
    // RFC 9111 §5.2.1.2: max-stale without a value accepts a stale response of any age.
    {"max-stale", &Req::max_stale, Duplicate::keep_smaller, Seconds::max()},
    {"min-fresh", &Req::min_fresh, Duplicate::keep_larger, std::nullopt},
}};

template <class CC, std::size_t N>
bool apply_flag(CC& cc, const Directive& d, const std::array<FlagDirective<CC>, N>& table) {
  for (const auto& row : table) {
    if (row.name == d.name) {
      cc.*row.member = true;
      return true;
    }
  }
  return false;
}

template <class CC, std::size_t N>
bool apply_delta(CC& cc, const Directive& d, const std::array<DeltaDirective<CC>, N>& table) {
  for (const auto& row : table) {
    if (row.name != d.name) continue;
    // A malformed argument ("abc", "-1", "") counts as 0: stale (RFC 9111 §4.2.1).
    const Seconds value = d.argument ? parse_delta_seconds(*d.argument).value_or(Seconds{0})
                                     : row.without_argument.value_or(Seconds{0});
    auto& slot = cc.*row.member;
    slot = slot ? merge_duplicate(row.duplicate, *slot, value) : value;
    return true;
  }
  return false;
}

bool apply_qualified(Res& cc, const Directive& d) {
  for (const auto& row : response_qualified) {
    if (row.name != d.name) continue;
    if (!d.argument) {
      cc.*row.unqualified = true;
    } else {
      for (std::string_view name : split_list(*d.argument)) {
        (cc.*row.fields).push_back(lower(name));
      }
    }
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// HTTP-date (RFC 9110 §5.6.7), parsed without locale-dependent functions.

constexpr std::array<std::string_view, 7> short_days{"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> long_days{"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                    "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

class DateCursor {
 public:
  explicit DateCursor(std::string_view text) : rest_(text) {}

  bool done() const { return rest_.empty(); }

  bool literal(std::string_view s) {
    if (rest_.substr(0, s.size()) != s) return false;
    rest_.remove_prefix(s.size());
    return true;
  }

  // Between min_digits and max_digits decimal digits.
  std::optional<int> number(std::size_t min_digits, std::size_t max_digits) {
    std::size_t n = 0;
    int value = 0;
    while (n < rest_.size() && n < max_digits && is_digit(rest_[n])) {
      value = value * 10 + (rest_[n] - '0');
      ++n;
    }
    if (n < min_digits) return std::nullopt;
    rest_.remove_prefix(n);
    return value;
  }

  // Index of the name in `names` that the input starts with (case-insensitive).
  template <std::size_t N>
  std::optional<int> name(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; i < N; ++i) {
      if (iequals(rest_.substr(0, names[i].size()), names[i])) {
        rest_.remove_prefix(names[i].size());
        return static_cast<int>(i);
      }
    }
    return std::nullopt;
  }

 private:
  std::string_view rest_;
};

struct DateParts {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

// time-of-day = hour ":" minute ":" second, each 2DIGIT.
bool parse_time_of_day(DateCursor& c, DateParts& p) {
  auto h = c.number(2, 2);
  if (!h || !c.literal(":")) return false;
  auto m = c.number(2, 2);
  if (!m || !c.literal(":")) return false;
  auto s = c.number(2, 2);
  if (!s) return false;
  p.hour = *h;
  p.minute = *m;
  p.second = *s;
  return true;
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (day-name already consumed). A one-digit
// day is accepted as well: some servers send it and it is unambiguous.
bool parse_imf_fixdate(DateCursor& c, DateParts& p) {
  auto day = c.number(1, 2);
  if (!day || !c.literal(" ")) return false;
  auto month = c.name(months);
  if (!month || !c.literal(" ")) return false;
  auto year = c.number(4, 4);
  if (!year || !c.literal(" ") || !parse_time_of_day(c, p) || !c.literal(" GMT")) return false;
  p.day = *day;
  p.month = *month + 1;
  p.year = *year;
  return true;
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (day-name already consumed).
bool parse_rfc850(DateCursor& c, DateParts& p, int current_year) {
  auto day = c.number(2, 2);
  if (!day || !c.literal("-")) return false;
  auto month = c.name(months);
  if (!month || !c.literal("-")) return false;
  auto year = c.number(2, 2);
  if (!year || !c.literal(" ") || !parse_time_of_day(c, p) || !c.literal(" GMT")) return false;
  p.day = *day;
  p.month = *month + 1;
  // RFC 9110 §5.6.7: the year in this century, unless that is more than 50 years in the
  // future: then the most recent past year with those two digits.
  int full = current_year - current_year % 100 + static_cast<int>(*year);
  if (full > current_year + 50) full -= 100;
  p.year = full;
  return true;
}

// asctime: "Sun Nov  6 08:49:37 1994" (day-name already consumed).
bool parse_asctime(DateCursor& c, DateParts& p) {
  if (!c.literal(" ")) return false;
  auto month = c.name(months);
  if (!month || !c.literal(" ")) return false;
  c.literal(" ");  // date3 = month SP ( 2DIGIT / ( SP DIGIT ) )
  auto day = c.number(1, 2);
  if (!day || !c.literal(" ") || !parse_time_of_day(c, p) || !c.literal(" ")) return false;
  auto year = c.number(4, 4);
  if (!year) return false;
  p.day = *day;
  p.month = *month + 1;
  p.year = *year;
  return true;
}

std::optional<TimePoint> to_time_point(const DateParts& p) {
  using namespace std::chrono;
  const year_month_day ymd{year{p.year}, month{static_cast<unsigned>(p.month)},
                           day{static_cast<unsigned>(p.day)}};
  // RFC 9110 §5.6.7: second 60 is a leap second; it rolls over into the next minute.
  if (!ymd.ok() || p.hour > 23 || p.minute > 59 || p.second > 60) return std::nullopt;
  const sys_seconds t = sys_days{ymd} + hours{p.hour} + minutes{p.minute} + seconds{p.second};
  // system_clock counts nanoseconds in 64 bits: about 1678..2262. Dates are clamped to half
  // that range (about 1824..2116) so that converting cannot overflow, nor can subtracting
  // one parsed date from another. "Expires: Fri, 31 Dec 9999 ..." still means "far future".
  const auto limit = floor<seconds>(TimePoint::duration::max() / 2);
  return TimePoint{std::clamp(t.time_since_epoch(), -limit, limit)};
}

}  // namespace

// ---------------------------------------------------------------------------------------

FieldLines field_lines(const Fields& fields, std::string_view name) {
  auto [first, last] = fields.equal_range(name);
  return {first, last};
}

std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> out;
  for_each_list_element(value, [&](std::string_view element) { out.push_back(element); });
  return out;
}

std::optional<std::string> combined_field_value(const Fields& fields, std::string_view name) {
  const FieldLines lines = field_lines(fields, name);
  if (lines.begin() == lines.end()) return std::nullopt;
  std::string out;
  for (const auto& line : lines) {
    for (std::string_view element : split_list(line.value())) {
      if (!out.empty()) out += ", ";
      out += element;
    }
  }
  return out;
}

namespace {

ResponseCacheControl parse_response_uncached(const Fields& headers) {
  ResponseCacheControl cc;
  for (const Directive& d : parse_directives(headers)) {
    // Unknown directives are ignored (RFC 9111 §5.2.3).
    apply_flag(cc, d, response_flags) || apply_delta(cc, d, response_deltas) ||
        apply_qualified(cc, d);
  }
  return cc;
}

// Every hit evaluates its stored response's Cache-Control, and hot objects share a handful of
// values ("max-age=3600", "public, max-age=86400"...): each thread remembers the parse of the
// last values it saw in a small direct-mapped table, as cache_key.cpp does for URLs. Only a
// single, short field line is remembered; anything else is parsed as it comes.
constexpr std::size_t kMemoSlots = 64;
constexpr std::size_t kMemoMaxValue = 256;

}  // namespace

ResponseCacheControl parse_response_cache_control(const Fields& headers) {
  auto it = headers.find(http::field::cache_control);
  if (it == headers.end()) return {};
  const std::string_view value = it->value();
  if (value.size() > kMemoMaxValue || headers.count(http::field::cache_control) != 1)
    return parse_response_uncached(headers);
  thread_local DirectMappedMemo<ResponseCacheControl, kMemoSlots> memo;
  return memo.get(value, [&headers] { return parse_response_uncached(headers); });
}

RequestCacheControl parse_request_cache_control(const Fields& headers) {
  RequestCacheControl cc;
  for (const Directive& d : parse_directives(headers)) {
    apply_flag(cc, d, request_flags) || apply_delta(cc, d, request_deltas);
  }
  // RFC 9111 §5.4: Pragma: no-cache means Cache-Control: no-cache only when the request has
  // no Cache-Control field.
  if (headers.count("cache-control") == 0) {
    for (const auto& line : field_lines(headers, "pragma")) {
      for (std::string_view element : split_list(line.value())) {
        if (iequals(element, "no-cache")) cc.no_cache = true;
      }
    }
  }
  return cc;
}

std::optional<std::int64_t> canonical_fixdate_seconds(std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT": every character has its place.
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  bool digits_ok = true;
  auto number = [&](std::size_t at, std::size_t count) {
    int value = 0;
    for (std::size_t i = at; i < at + count; ++i) {
      digits_ok = digits_ok && is_digit(text[i]);
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const int day = number(5, 2), year = number(12, 4);
  const int hour = number(17, 2), minute = number(20, 2), second = number(23, 2);
  const auto month = std::find(months.begin(), months.end(), text.substr(8, 3));
  if (!digits_ok || month == months.end() || year < 1900 || year > 2106 || hour > 23 ||
      minute > 59 || second > 59) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month - months.begin() + 1)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const sys_days date{ymd};
  if (text.substr(0, 3) != short_days[weekday{date}.c_encoding()]) return std::nullopt;
  return std::int64_t{date.time_since_epoch().count()} * 86400 + hour * 3600 + minute * 60 +
         second;
}

std::optional<TimePoint> parse_http_date(std::string_view text, TimePoint now) {
  // Nearly every date is an IMF-fixdate written as format_http_date writes it.
  if (const std::optional<std::int64_t> seconds = canonical_fixdate_seconds(text)) {
    return TimePoint{std::chrono::seconds{*seconds}};
  }
  DateCursor c(trim(text));
  DateParts parts;
  bool parsed = false;
  if (c.name(long_days)) {
    const std::chrono::year_month_day today{std::chrono::floor<std::chrono::days>(now)};
    parsed = c.literal(", ") && parse_rfc850(c, parts, static_cast<int>(today.year()));
  } else if (c.name(short_days)) {
    parsed = c.literal(", ") ? parse_imf_fixdate(c, parts) : parse_asctime(c, parts);
  }
  if (!parsed || !c.done()) return std::nullopt;
  return to_time_point(parts);
}

std::string format_http_date(TimePoint t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto days = floor<std::chrono::days>(secs);
  const year_month_day ymd{days};
  const hh_mm_ss hms{secs - days};
  const weekday wd{days};
  // A TimePoint (nanoseconds in 64 bits) spans the years 1677 to 2262: always four digits.
  const int year = static_cast<int>(ymd.year());
  // IMF-fixdate has fixed widths: written in place, as a miss formats two (storing Date and
  // Last-Modified compactly checks that they read back the same), not through a format string.
  std::string out = "Sun, 00 Jan 0000 00:00:00 GMT";
  auto two = [&out](std::size_t at, long value) {
    out[at] = static_cast<char>('0' + value / 10);
    out[at + 1] = static_cast<char>('0' + value % 10);
  };
  out.replace(0, 3, short_days[wd.c_encoding()]);
  two(5, static_cast<unsigned>(ymd.day()));
  out.replace(8, 3, months[static_cast<unsigned>(ymd.month()) - 1]);
  two(12, year / 100);
  two(14, year % 100);
  two(17, hms.hours().count());
  two(20, hms.minutes().count());
  two(23, hms.seconds().count());
  return out;
}

std::optional<Seconds> parse_delta_seconds(std::string_view text) {
  // RFC 9111 §1.2.2: "a cache ... MUST use 2147483648 (2^31) if [the value] is greater".
  constexpr std::int64_t saturation = std::int64_t{1} << 31;
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char ch : text) {
    if (!is_digit(ch)) return std::nullopt;
    value = std::min(saturation, value * 10 + (ch - '0'));
  }
  return Seconds{value};
}

}  // namespace cacheproxy::cache
