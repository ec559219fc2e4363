#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

using namespace cacheproxy::cache;
using std::chrono::seconds;

namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

cacheproxy::Fields make_fields(const Lines& lines) {
  cacheproxy::Fields fields;
  for (const auto& [name, value] : lines) fields.insert(name, value);
  return fields;
}

cacheproxy::Fields cache_control(const std::vector<std::string>& lines) {
  cacheproxy::Fields fields;
  for (const auto& line : lines) fields.insert(http::field::cache_control, line);
  return fields;
}

constexpr Seconds saturated{std::int64_t{1} << 31};

struct ResponseRow {
  std::vector<std::string> lines;
  std::optional<Seconds> max_age = {};
  std::optional<Seconds> s_maxage = {};
  bool no_store = false;
  bool no_cache = false;
  bool private_ = false;
  std::vector<std::string> no_cache_fields = {};
  std::vector<std::string> private_fields = {};
};

struct RequestRow {
  Lines headers;
  bool no_cache = false;
  bool no_store = false;
  bool only_if_cached = false;
  std::optional<Seconds> max_age = {};
  std::optional<Seconds> max_stale = {};
  std::optional<Seconds> min_fresh = {};
};

}  // namespace

TEST_CASE("response Cache-Control directives", "[cache_control]") {
  static const std::vector<ResponseRow> rows{
      {{}, {}, {}},
      {{"max-age=60"}, seconds{60}, {}},
      {{"MAX-AGE=60"}, seconds{60}, {}},
      {{"max-age=\"60\""}, seconds{60}, {}},
      {{" max-age = 60 "}, seconds{60}, {}},
      // Malformed delta-seconds: present, and 0 (stale).
      {{"max-age=abc"}, seconds{0}, {}},
      {{"max-age=-1"}, seconds{0}, {}},
      {{"max-age=1.5"}, seconds{0}, {}},
      {{"max-age="}, seconds{0}, {}},
      {{"max-age"}, seconds{0}, {}},
      {{"max-age=99999999999"}, saturated, {}},
      // Conflicting duplicates are stale; an identical repeat is not a conflict.
      {{"max-age=5, max-age=10"}, seconds{0}, {}},
      {{"max-age=5", "max-age=10"}, seconds{0}, {}},
      {{"max-age=5, max-age=5"}, seconds{5}, {}},
      {{"s-maxage=30, max-age=60"}, seconds{60}, seconds{30}},
      {{"S-MaxAge=30"}, {}, seconds{30}},
      {{"no-store"}, {}, {}, true},
      {{"No-Store, max-age=60"}, seconds{60}, {}, true},
      {{",,, no-store ,,"}, {}, {}, true},
      {{"no-cache"}, {}, {}, false, true},
      {{"no-cache=\"Set-Cookie, X-Foo\""}, {}, {}, false, false, false, {"set-cookie", "x-foo"}},
      {{"no-cache=Set-Cookie"}, {}, {}, false, false, false, {"set-cookie"}},
      {{"no-cache, no-cache=\"X-A\""}, {}, {}, false, true, false, {"x-a"}},
      {{"private"}, {}, {}, false, false, true},
      {{"PRIVATE=\"Authorization\""}, {}, {}, false, false, false, {}, {"authorization"}},
      // A comma inside a quoted extension argument does not start a directive.
      {{"community=\"UCI, max-age=5\""}, {}, {}},
      {{"ext=\"a\\\"b, max-age=7\", max-age=9"}, seconds{9}, {}},
      // Several field lines are one list.
      {{"max-age=60", "no-store", "private"}, seconds{60}, {}, true, false, true},
  };
  const ResponseRow row = GENERATE(from_range(rows));
  CAPTURE(row.lines);
  const ResponseCacheControl cc = parse_response_cache_control(cache_control(row.lines));
  CHECK(cc.max_age == row.max_age);
  CHECK(cc.s_maxage == row.s_maxage);
  CHECK(cc.no_store == row.no_store);
  CHECK(cc.no_cache == row.no_cache);
  CHECK(cc.private_ == row.private_);
  CHECK(cc.no_cache_fields == row.no_cache_fields);
  CHECK(cc.private_fields == row.private_fields);
}

TEST_CASE("response Cache-Control boolean directives", "[cache_control]") {
  const ResponseCacheControl cc = parse_response_cache_control(cache_control(
      {"public, Must-Revalidate, proxy-revalidate", "no-transform, immutable, must-understand"}));
  CHECK(cc.public_);
  CHECK(cc.must_revalidate);
  CHECK(cc.proxy_revalidate);
  CHECK(cc.no_transform);
  CHECK(cc.immutable);
  CHECK(cc.must_understand);
  CHECK_FALSE(cc.no_store);
  CHECK_FALSE(cc.max_age.has_value());

  const ResponseCacheControl none = parse_response_cache_control(cache_control({"x-unknown"}));
  CHECK_FALSE(none.public_);
  CHECK_FALSE(none.must_revalidate);
}

TEST_CASE("request Cache-Control directives and Pragma", "[cache_control]") {
  static const std::vector<RequestRow> rows{
      {{}},
      {{{"Cache-Control", "max-age=0"}}, false, false, false, seconds{0}},
      {{{"Cache-Control", "max-age=abc"}}, false, false, false, seconds{0}},
      {{{"Cache-Control", "max-age=10, max-age=5"}}, false, false, false, seconds{5}},
      {{{"Cache-Control", "max-stale"}}, false, false, false, {}, Seconds::max()},
      {{{"Cache-Control", "max-stale=30"}}, false, false, false, {}, seconds{30}},
      {{{"Cache-Control", "max-stale=abc"}}, false, false, false, {}, seconds{0}},
      {{{"Cache-Control", "max-stale, max-stale=5"}}, false, false, false, {}, seconds{5}},
      {{{"Cache-Control", "min-fresh=10"}}, false, false, false, {}, {}, seconds{10}},
      {{{"Cache-Control", "min-fresh=5"}, {"Cache-Control", "min-fresh=10"}},
       false,
       false,
       false,
       {},
       {},
       seconds{10}},
      {{{"Cache-Control", "NO-CACHE"}}, true},
      {{{"Cache-Control", "no-store"}}, false, true},
      {{{"Cache-Control", "only-if-cached"}}, false, false, true},
      // RFC 9111 §5.4: Pragma only counts without Cache-Control.
      {{{"Pragma", "no-cache"}}, true},
      {{{"Pragma", "foo, No-Cache"}}, true},
      {{{"Pragma", "x-no-cache"}}},
      {{{"Pragma", "no-cache"}, {"Cache-Control", "max-stale"}},
       false,
       false,
       false,
       {},
       Seconds::max()},
  };
  const RequestRow row = GENERATE(from_range(rows));
  CAPTURE(row.headers);
  const RequestCacheControl cc = parse_request_cache_control(make_fields(row.headers));
  CHECK(cc.no_cache == row.no_cache);
  CHECK(cc.no_store == row.no_store);
  CHECK(cc.only_if_cached == row.only_if_cached);
  CHECK(cc.max_age == row.max_age);
  CHECK(cc.max_stale == row.max_stale);
  CHECK(cc.min_fresh == row.min_fresh);
}

TEST_CASE("parse_http_date accepts the three HTTP-date formats", "[cache_control]") {
  const auto [text, epoch] = GENERATE(table<std::string, std::int64_t>({
      {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
      {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
      {"Sun Nov  6 08:49:37 1994", 784111777},
      {"Sun, 6 Nov 1994 08:49:37 GMT", 784111777},
      {"  Sun, 06 Nov 1994 08:49:37 GMT\t", 784111777},
      {"sun, 06 nov 1994 08:49:37 GMT", 784111777},
      {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
      {"Thursday, 01-Jan-70 00:00:00 GMT", 0},
      {"Monday, 01-Jan-24 00:00:00 GMT", 1704067200},
      {"Mon Jan  1 00:00:00 2024", 1704067200},
      {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
      {"Wed, 01 Mar 2000 00:00:00 GMT", 951868800},
      {"Sat, 31 Dec 2016 23:59:60 GMT", 1483228800},  // leap second
      {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
  }));
  CAPTURE(text);
  // RFC 850's two-digit years are read relative to a clock: here, 1 Jan 2000.
  const TimePoint y2000{Seconds{946684800}};
  const auto parsed = parse_http_date(text, y2000);
  REQUIRE(parsed.has_value());
  CHECK(std::chrono::floor<Seconds>(parsed->time_since_epoch()).count() == epoch);
}

TEST_CASE("an RFC 850 two-digit year more than 50 years ahead is the century before",
          "[cache_control]") {
  // RFC 9110 §5.6.7, read on 1 Jan 2026.
  const TimePoint y2026{Seconds{1767225600}};
  auto year_of = [&](const char* text) {
    const auto parsed = parse_http_date(text, y2026);
    REQUIRE(parsed.has_value());
    return static_cast<int>(
        std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(*parsed)}.year());
  };
  CHECK(year_of("Thursday, 01-Jan-26 00:00:00 GMT") == 2026);
  CHECK(year_of("Friday, 01-Jan-76 00:00:00 GMT") == 2076);  // 50 years ahead: kept
  CHECK(year_of("Friday, 01-Jan-77 00:00:00 GMT") == 1977);  // 51 years ahead: the past
  CHECK(year_of("Friday, 01-Jan-99 00:00:00 GMT") == 1999);
  CHECK(year_of("Saturday, 01-Jan-00 00:00:00 GMT") == 2000);
}

TEST_CASE("parse_http_date clamps dates beyond the clock's range", "[cache_control]") {
  const TimePoint y2024{Seconds{1704067200}};
  const auto far = parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT");
  REQUIRE(far.has_value());
  CHECK(*far - y2024 > std::chrono::hours{24 * 365 * 90});
  const auto early = parse_http_date("Mon, 01 Jan 0001 00:00:00 GMT");
  REQUIRE(early.has_value());
  CHECK(y2024 - *early > std::chrono::hours{24 * 365 * 190});
  // The difference of any two parsed dates is representable.
  CHECK(*far - *early > Seconds{0});
}

TEST_CASE("parse_http_date rejects malformed dates", "[cache_control]") {
  const std::string text =
      GENERATE(as<std::string>{}, "", "0", "-1", "garbage", "Sun, 06 Nov 1994 08:49:37",
               "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 GMT extra",
               "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 31 Nov 1994 08:49:37 GMT",
               "Sun, 29 Feb 1995 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT",
               "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
               "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:61 GMT",
               "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
               "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun 06 Nov 1994 08:49:37 GMT",
               "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov  6 08:49:37 94", "1994-11-06T08:49:37Z",
               "Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT");
  CAPTURE(text);
  CHECK_FALSE(parse_http_date(text).has_value());
}

TEST_CASE("canonical_fixdate_seconds reads exactly what format_http_date writes",
          "[cache_control]") {
  // Every day from 1900 to 2106, at a time of day that moves with it.
  const TimePoint first{Seconds{-2208988800}};  // 1 Jan 1900
  for (std::int64_t day = 0; day < 75605; ++day) {  // to 31 Dec 2106
    const TimePoint t = first + Seconds{day * 86400 + (day * 7919) % 86400};
    const std::string text = format_http_date(t);
    CAPTURE(text);
    const std::optional<std::int64_t> seconds = canonical_fixdate_seconds(text);
    REQUIRE(seconds.has_value());
    REQUIRE(TimePoint{Seconds{*seconds}} == t);
  }
}

TEST_CASE("canonical_fixdate_seconds leaves every other date to the general parser",
          "[cache_control]") {
  const std::string other = GENERATE(
      as<std::string>{}, "Mon, 06 Nov 1994 08:49:37 GMT" /* wrong day name */,
      "sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT",
      "Sat, 31 Dec 2016 23:59:60 GMT" /* leap second */, "Sun, 6 Nov 1994 08:49:37 GMT",
      " Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMX",
      "Sun, 06 Nov 1994 08-49-37 GMT", "Sun, 06 Nov 1994 08:49:3x GMT",
      "Fri, 31 Dec 9999 23:59:59 GMT" /* past 2106 */, "Sun, 31 Dec 1899 23:59:59 GMT",
      "Sun, 31 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT");
  CAPTURE(other);
  CHECK_FALSE(canonical_fixdate_seconds(other).has_value());
}

TEST_CASE("format_http_date writes IMF-fixdate", "[cache_control]") {
  const auto [epoch, text] = GENERATE(table<std::int64_t, std::string>({
      {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
      {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
      {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
      {1709208000, "Thu, 29 Feb 2024 12:00:00 GMT"},
      {4165516799, "Sat, 31 Dec 2101 23:59:59 GMT"},
      {1796454309, "Sat, 05 Dec 2026 07:05:09 GMT"},
  }));
  const TimePoint t{Seconds{epoch}};
  CHECK(format_http_date(t) == text);
  CHECK(parse_http_date(text) == t);
  // Sub-second parts are truncated, never rounded up.
  CHECK(format_http_date(t + std::chrono::milliseconds{999}) == text);
}

TEST_CASE("parse_delta_seconds", "[cache_control]") {
  const auto [text, expected] = GENERATE(table<std::string, std::optional<Seconds>>({
      {"0", seconds{0}},
      {"60", seconds{60}},
      {"007", seconds{7}},
      {"2147483647", seconds{2147483647}},
      {"2147483648", saturated},
      {"2147483649", saturated},
      {"99999999999999999999999999", saturated},
      {"", std::nullopt},
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {"1.5", std::nullopt},
      {" 1", std::nullopt},
      {"1 ", std::nullopt},
      {"abc", std::nullopt},
      {"0x10", std::nullopt},
  }));
  CAPTURE(text);
  CHECK(parse_delta_seconds(text) == expected);
}

TEST_CASE("split_list and combined_field_value", "[cache_control]") {
  const auto [value, elements] = GENERATE(table<std::string, std::vector<std::string>>({
      {"", {}},
      {"a", {"a"}},
      {" a , b ,, c ", {"a", "b", "c"}},
      {"a=\"x, y\", b", {"a=\"x, y\"", "b"}},
      {"a=\"x\\\", y\", b", {"a=\"x\\\", y\"", "b"}},
      {",,,", {}},
  }));
  CAPTURE(value);
  std::vector<std::string> got;
  for (auto e : split_list(value)) got.emplace_back(e);
  CHECK(got == elements);

  const cacheproxy::Fields fields = make_fields({{"Accept", " gzip ,br"}, {"accept", "deflate "}});
  CHECK(combined_field_value(fields, "ACCEPT") == std::optional<std::string>("gzip, br, deflate"));
  CHECK_FALSE(combined_field_value(fields, "accept-language").has_value());
  CHECK(combined_field_value(make_fields({{"X", ""}}), "x") == std::optional<std::string>(""));
}

TEST_CASE("response Cache-Control: the per-thread memo never changes an answer",
          "[cache_control]") {
  // The same values again and again (memo hits), interleaved with others and with a response
  // that splits its directives over two lines (never memoized).
  cacheproxy::Fields one;
  one.set(http::field::cache_control, "max-age=60, no-cache=\"Set-Cookie\"");
  cacheproxy::Fields other;
  other.set(http::field::cache_control, "s-maxage=5, must-revalidate");
  cacheproxy::Fields split;
  split.insert(http::field::cache_control, "max-age=60");
  split.insert(http::field::cache_control, "no-store");
  for (int round = 0; round < 3; ++round) {
    ResponseCacheControl a = parse_response_cache_control(one);
    CHECK(a.max_age == Seconds(60));
    CHECK(a.no_cache_fields == std::vector<std::string>{"set-cookie"});
    CHECK_FALSE(a.no_store);
    ResponseCacheControl b = parse_response_cache_control(other);
    CHECK(b.s_maxage == Seconds(5));
    CHECK(b.must_revalidate);
    CHECK_FALSE(b.max_age);
    ResponseCacheControl c = parse_response_cache_control(split);
    CHECK(c.max_age == Seconds(60));
    CHECK(c.no_store);
  }
  CHECK_FALSE(parse_response_cache_control(cacheproxy::Fields{}).max_age);
}
