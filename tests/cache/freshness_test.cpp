#include "cache/freshness.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache_control.hpp"

using namespace cacheproxy::cache;
using std::chrono::seconds;

namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

// 2024-01-01 00:00:00 UTC: the origin's Date in most rows.
const TimePoint t0{seconds{1704067200}};

std::string date(seconds offset) { return format_http_date(t0 + offset); }

EntryMeta make_entry(unsigned status, const Lines& lines, TimePoint request_time = t0,
                     TimePoint response_time = t0) {
  EntryMeta entry;
  entry.status = status;
  for (const auto& [name, value] : lines) entry.headers.insert(name, value);
  entry.request_time = request_time;
  entry.response_time = response_time;
  return entry;
}

struct LifetimeRow {
  std::string name;
  unsigned status;
  Lines headers;
  seconds response_offset;  // response_time - t0
  seconds lifetime;
  LifetimeSource source;
};

}  // namespace

TEST_CASE("freshness_lifetime picks s-maxage, max-age, Expires, then heuristic", "[freshness]") {
  const auto s = [](int n) { return seconds{n}; };
  const auto max_age = LifetimeSource::max_age;
  const auto expires = LifetimeSource::expires;
  const auto heuristic = LifetimeSource::heuristic;
  const auto none = LifetimeSource::none;
  // clang-format off
  const std::vector<LifetimeRow> rows{
      {"max-age", 200, {{"Date", date(s(0))}, {"Cache-Control", "max-age=60"}}, s(0), s(60), max_age},
      // RFC 9111 §5.2.2.9: public makes any status heuristically cacheable.
      {"public 302 heuristic", 302,
       {{"Date", date(s(0))}, {"Cache-Control", "public"}, {"Last-Modified", date(s(-1000))}},
       s(0), s(100), heuristic},
      {"302 without public: no heuristic", 302,
       {{"Date", date(s(0))}, {"Last-Modified", date(s(-1000))}}, s(0), s(0), none},
      {"s-maxage beats max-age", 200, {{"Cache-Control", "s-maxage=30, max-age=60"}}, s(0), s(30),
       LifetimeSource::s_maxage},
      {"max-age beats Expires", 200,
       {{"Date", date(s(0))}, {"Expires", date(s(3600))}, {"Cache-Control", "max-age=60"}},
       s(0), s(60), max_age},
      {"max-age=abc is stale", 200,
       {{"Cache-Control", "max-age=abc"}, {"Last-Modified", date(s(-100000))}}, s(0), s(0), max_age},
      {"max-age=-1 is stale", 200, {{"Cache-Control", "max-age=-1"}}, s(0), s(0), max_age},
      {"conflicting max-age is stale", 200, {{"Cache-Control", "max-age=5, max-age=10"}},
       s(0), s(0), max_age},
      {"Expires minus Date", 200, {{"Date", date(s(0))}, {"Expires", date(s(3600))}},
       s(0), s(3600), expires},
      {"Expires without Date uses response_time", 200, {{"Expires", date(s(3600))}},
       s(600), s(3000), expires},
      {"Expires with garbage Date uses response_time", 200,
       {{"Date", "yesterday"}, {"Expires", date(s(3600))}}, s(100), s(3500), expires},
      {"Expires: 0 is already expired", 200,
       {{"Date", date(s(0))}, {"Expires", "0"}, {"Last-Modified", date(s(-9999))}},
       s(0), s(0), expires},
      {"garbage Expires is already expired", 200, {{"Expires", "soon"}}, s(0), s(0), expires},
      {"Expires before Date", 200, {{"Date", date(s(0))}, {"Expires", date(s(-60))}},
       s(0), s(0), expires},
      {"conflicting Expires lines", 200,
       {{"Date", date(s(0))}, {"Expires", date(s(3600))}, {"Expires", date(s(7200))}},
       s(0), s(0), expires},
      {"repeated identical Expires", 200,
       {{"Date", date(s(0))}, {"Expires", date(s(3600))}, {"Expires", date(s(3600))}},
       s(0), s(3600), expires},
      {"heuristic: 10% of Date - Last-Modified", 200,
       {{"Date", date(s(0))}, {"Last-Modified", date(s(-1000))}}, s(0), s(100), heuristic},
      {"heuristic without Date measures at response_time", 200,
       {{"Last-Modified", date(s(-1000))}}, s(1000), s(200), heuristic},
      {"heuristic is capped", 200,
       {{"Date", date(s(0))}, {"Last-Modified", date(s(-100 * 86400))}}, s(0), s(86400), heuristic},
      {"Last-Modified after Date", 200,
       {{"Date", date(s(0))}, {"Last-Modified", date(s(50))}}, s(0), s(0), heuristic},
      {"heuristic for 404", 404,
       {{"Date", date(s(0))}, {"Last-Modified", date(s(-1000))}}, s(0), s(100), heuristic},
      {"heuristic for 206", 206,
       {{"Date", date(s(0))}, {"Last-Modified", date(s(-1000))}}, s(0), s(100), heuristic},
      {"no heuristic for 302", 302,
       {{"Date", date(s(0))}, {"Last-Modified", date(s(-1000))}}, s(0), s(0), none},
      {"no heuristic for 500", 500, {{"Last-Modified", date(s(-1000))}}, s(0), s(0), none},
      {"302 with max-age", 302, {{"Cache-Control", "max-age=60"}}, s(0), s(60), max_age},
      {"garbage Last-Modified", 200, {{"Date", date(s(0))}, {"Last-Modified", "garbage"}},
       s(0), s(0), none},
      {"nothing at all", 200, {{"Date", date(s(0))}}, s(0), s(0), none},
  };
  // clang-format on
  const LifetimeRow row = GENERATE_REF(from_range(rows));
  CAPTURE(row.name);
  const EntryMeta entry = make_entry(row.status, row.headers, t0, t0 + row.response_offset);
  const FreshnessLifetime lifetime = freshness_lifetime(entry, HeuristicRules{});
  CHECK(lifetime.lifetime == row.lifetime);
  CHECK(lifetime.source == row.source);
  CHECK(lifetime_source(row.status, entry.headers) == row.source);
}

TEST_CASE("a far-future Expires is a long lifetime, not an overflow", "[freshness]") {
  const EntryMeta entry =
      make_entry(200, {{"Date", date(seconds{0})}, {"Expires", "Fri, 31 Dec 9999 23:59:59 GMT"}});
  const FreshnessLifetime lifetime = freshness_lifetime(entry, HeuristicRules{});
  CHECK(lifetime.source == LifetimeSource::expires);
  CHECK(lifetime.lifetime > std::chrono::hours{24 * 365 * 90});
}

TEST_CASE("heuristic rules are configurable", "[freshness]") {
  const EntryMeta entry =
      make_entry(200, {{"Date", date(seconds{0})}, {"Last-Modified", date(seconds{-1000})}});
  const auto [factor, cap, expected] = GENERATE(table<double, seconds, seconds>({
      {0.5, seconds{86400}, seconds{500}},
      {0.5, seconds{50}, seconds{50}},
      {0.0, seconds{86400}, seconds{0}},
      {-1.0, seconds{86400}, seconds{0}},
      {1.0, seconds{86400}, seconds{1000}},
  }));
  CAPTURE(factor, cap.count());
  const FreshnessLifetime lifetime = freshness_lifetime(entry, HeuristicRules{factor, cap});
  CHECK(lifetime.lifetime == expected);
  CHECK(lifetime.source == LifetimeSource::heuristic);
}

TEST_CASE("heuristically cacheable status codes", "[freshness]") {
  // clang-format off
  const auto [status, expected] = GENERATE(table<unsigned, bool>({
      {200, true}, {203, true}, {204, true}, {206, true}, {300, true}, {301, true},
      {308, true}, {404, true}, {405, true}, {410, true}, {414, true}, {501, true},
      {201, false}, {302, false}, {304, false}, {307, false}, {400, false}, {500, false},
      {503, false},
  }));
  // clang-format on
  CAPTURE(status);
  CHECK(heuristically_cacheable(status) == expected);
}

namespace {

struct AgeRow {
  std::string name;
  Lines headers;
  seconds request_offset;
  seconds response_offset;
  seconds now_offset;
  seconds age;
};

}  // namespace

TEST_CASE("current_age follows RFC 9111 section 4.2.3", "[freshness]") {
  const auto s = [](std::int64_t n) { return seconds{n}; };
  // clang-format off
  const std::vector<AgeRow> rows{
      //  name                                  headers                                   request  response  now    age
      {"brand new",                            {{"Date", date(s(0))}},                     s(0),   s(0),   s(0),   s(0)},
      {"resident time",                        {{"Date", date(s(0))}},                     s(0),   s(0),   s(42),  s(42)},
      {"apparent age from Date",               {{"Date", date(s(0))}},                     s(10),  s(10),  s(10),  s(10)},
      {"response delay",                       {{"Date", date(s(0))}},                     s(-2),  s(0),   s(5),   s(7)},
      {"Age plus response delay",              {{"Date", date(s(0))}, {"Age", "100"}},     s(0),   s(1),   s(11),  s(111)},
      {"apparent age beats a smaller Age",     {{"Date", date(s(0))}, {"Age", "3"}},       s(60),  s(60),  s(60),  s(60)},
      {"garbage Age is ignored",               {{"Date", date(s(0))}, {"Age", "old"}},     s(0),   s(1),   s(11),  s(11)},
      {"negative Age is ignored",              {{"Date", date(s(0))}, {"Age", "-5"}},      s(0),   s(0),   s(0),   s(0)},
      {"two Age lines: the first (5.1)",       {{"Age", "5"}, {"Age", "10"}},              s(0),   s(0),   s(0),   s(5)},
      {"list-valued Age: the first member",    {{"Age", "7, 100"}},                        s(0),   s(0),   s(0),   s(7)},
      {"invalid first member: Age ignored",    {{"Age", "x, 100"}},                        s(0),   s(0),   s(0),   s(0)},
      {"huge Age saturates",                   {{"Age", "99999999999999"}},                s(0),   s(0),   s(0),   s(std::int64_t{1} << 31)},
      {"Date in the future",                   {{"Date", date(s(100))}},                   s(0),   s(0),   s(0),   s(0)},
      {"no Date",                              {},                                         s(20),  s(20),  s(30),  s(10)},
      {"garbage Date",                         {{"Date", "now"}},                          s(20),  s(20),  s(30),  s(10)},
      {"now before response_time",             {{"Date", date(s(0))}},                     s(0),   s(0),   s(-50), s(0)},
      {"response before request",              {{"Date", date(s(0))}},                     s(5),   s(0),   s(0),   s(0)},
  };
  // clang-format on
  const AgeRow row = GENERATE_REF(from_range(rows));
  CAPTURE(row.name);
  const EntryMeta entry =
      make_entry(200, row.headers, t0 + row.request_offset, t0 + row.response_offset);
  CHECK(current_age(entry, t0 + row.now_offset) == row.age);
}
