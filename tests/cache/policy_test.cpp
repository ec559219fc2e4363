#include "cache/policy.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache_control.hpp"
#include "cache/freshness.hpp"
#include "cache/header_fields.hpp"

using namespace cacheproxy::cache;
using std::chrono::seconds;

namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

// 2024-01-01 00:00:00 UTC.
const TimePoint t0{seconds{1704067200}};

std::string date(seconds offset) { return format_http_date(t0 + offset); }

cacheproxy::Fields make_fields(const Lines& lines) {
  cacheproxy::Fields fields;
  for (const auto& [name, value] : lines) fields.insert(name, value);
  return fields;
}

// Field names and values in order, for comparing whole field sets.
Lines lines_of(const cacheproxy::Fields& fields) {
  Lines out;
  for (const auto& f : fields) out.emplace_back(f.name_string(), f.value());
  return out;
}

}  // namespace

TEST_CASE("every Reason has a distinct kebab-case name", "[policy]") {
  const auto [reason, name] = GENERATE(table<Reason, std::string>({
      {Reason::ok, "ok"},
      {Reason::method_not_cacheable, "method-not-cacheable"},
      {Reason::request_no_store, "request-no-store"},
      {Reason::request_authorization, "request-authorization"},
      {Reason::status_not_cacheable, "status-not-cacheable"},
      {Reason::response_no_store, "response-no-store"},
      {Reason::response_private, "response-private"},
      {Reason::response_vary_star, "response-vary-star"},
      {Reason::no_freshness_information, "no-freshness-information"},
      {Reason::incomplete_response, "incomplete-response"},
      {Reason::too_large, "too-large"},
      {Reason::fresh, "fresh"},
      {Reason::stale, "stale"},
      {Reason::request_no_cache, "request-no-cache"},
      {Reason::request_max_age, "request-max-age"},
      {Reason::request_min_fresh, "request-min-fresh"},
      {Reason::response_no_cache, "response-no-cache"},
      {Reason::vary_mismatch, "vary-mismatch"},
      {Reason::no_validator, "no-validator"},
  }));
  CHECK(to_string(reason) == name);
}

TEST_CASE("request_cacheable", "[policy]") {
  const auto get = http::verb::get;
  const auto head = http::verb::head;
  // clang-format off
  const auto [method, headers, cacheable, reason] =
      GENERATE_COPY(table<http::verb, Lines, bool, Reason>({
          {get,               {},                                        true,  Reason::ok},
          {head,              {},                                        true,  Reason::ok},
          {get,               {{"Pragma", "no-cache"}},                  true,  Reason::ok},
          {get,               {{"Cache-Control", "max-age=0"}},          true,  Reason::ok},
          {http::verb::post,  {},                                        false, Reason::method_not_cacheable},
          {http::verb::put,   {},                                        false, Reason::method_not_cacheable},
          {http::verb::delete_, {},                                      false, Reason::method_not_cacheable},
          {http::verb::options, {},                                      false, Reason::method_not_cacheable},
          // RFC 9111 §5.2.1.5: no-store forbids storing, not answering from the cache.
          {get,               {{"Cache-Control", "no-store"}},           true,  Reason::ok},
          {head,              {{"Cache-Control", "max-age=5, NO-STORE"}}, true,  Reason::ok},
      }));
  // clang-format on
  const cacheproxy::Fields fields = make_fields(headers);
  const StoreVerdict verdict = request_cacheable(RequestView{method, fields});
  CHECK(verdict.storable == cacheable);
  CHECK(verdict.reason == reason);
}

namespace {

struct StorableRow {
  std::string name;
  http::verb method;
  Lines request;
  unsigned status;
  Lines response;
  Reason reason;  // Reason::ok means storable
};

}  // namespace

TEST_CASE("response_storable", "[policy]") {
  const auto get = http::verb::get;
  const std::string lm = date(seconds{-86400});
  const Lines max_age{{"Cache-Control", "max-age=60"}};
  const Lines auth{{"Authorization", "Basic eA=="}};
  // clang-format off
  const std::vector<StorableRow> rows{
      {"max-age",                 get, {}, 200, max_age, Reason::ok},
      {"HEAD is not stored",      http::verb::head, {}, 200, max_age, Reason::method_not_cacheable},
      {"POST",                    http::verb::post, {}, 200, max_age, Reason::method_not_cacheable},
      {"request no-store",        get, {{"Cache-Control", "no-store"}}, 200, max_age, Reason::request_no_store},
      {"302 with max-age",        get, {}, 302, max_age, Reason::ok},
      {"302 with Expires",        get, {}, 302, {{"Expires", date(seconds{60})}}, Reason::ok},
      {"302 with Last-Modified only", get, {}, 302, {{"Last-Modified", lm}}, Reason::status_not_cacheable},
      {"302 with ETag only",      get, {}, 302, {{"ETag", "\"x\""}}, Reason::status_not_cacheable},
      {"302 public with Last-Modified", get, {}, 302, {{"Cache-Control", "public"}, {"Last-Modified", lm}},
       Reason::ok},
      {"206 not stored",          get, {}, 206, max_age, Reason::status_not_cacheable},
      {"500 with max-age",        get, {}, 500, max_age, Reason::ok},
      {"503 with Last-Modified only", get, {}, 503, {{"Last-Modified", lm}}, Reason::status_not_cacheable},
      {"unknown 299",             get, {}, 299, max_age, Reason::status_not_cacheable},
      {"unknown 599",             get, {}, 599, max_age, Reason::status_not_cacheable},
      {"100",                     get, {}, 100, max_age, Reason::status_not_cacheable},
      {"304",                     get, {}, 304, max_age, Reason::status_not_cacheable},
      {"308",                     get, {}, 308, max_age, Reason::ok},
      {"404 with Last-Modified",  get, {}, 404, {{"Last-Modified", lm}}, Reason::ok},
      {"410 with Expires",        get, {}, 410, {{"Expires", date(seconds{60})}}, Reason::ok},
      {"no-store",                get, {}, 200, {{"Cache-Control", "No-Store, max-age=60"}}, Reason::response_no_store},
      {"no-store, must-understand", get, {}, 200, {{"Cache-Control", "must-understand, no-store, max-age=60"}},
       Reason::ok},
      {"must-understand, unknown status", get, {}, 299, {{"Cache-Control", "must-understand, no-store, max-age=60"}},
       Reason::status_not_cacheable},
      {"must-understand does not lift private", get, {}, 200,
       {{"Cache-Control", "must-understand, no-store, private, max-age=60"}}, Reason::response_private},
      {"private",                 get, {}, 200, {{"Cache-Control", "private, max-age=60"}}, Reason::response_private},
      {"qualified private",       get, {}, 200, {{"Cache-Control", "private=\"Set-Cookie\", max-age=60"}}, Reason::ok},
      {"Authorization",           get, auth, 200, max_age, Reason::request_authorization},
      {"Authorization + public",  get, auth, 200, {{"Cache-Control", "public, max-age=60"}}, Reason::ok},
      {"Authorization + s-maxage", get, auth, 200, {{"Cache-Control", "s-maxage=60"}}, Reason::ok},
      {"Authorization + must-revalidate", get, auth, 200, {{"Cache-Control", "must-revalidate, max-age=60"}},
       Reason::ok},
      {"Vary: *",                 get, {}, 200, {{"Cache-Control", "max-age=60"}, {"Vary", "*"}},
       Reason::response_vary_star},
      {"Vary: Accept, *",         get, {}, 200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept"}, {"Vary", " *"}},
       Reason::response_vary_star},
      {"Vary: Accept-Encoding",   get, {}, 200, {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Encoding"}},
       Reason::ok},
      {"nothing",                 get, {}, 200, {{"Content-Type", "text/plain"}}, Reason::no_freshness_information},
      {"301 with nothing",        get, {}, 301, {}, Reason::no_freshness_information},
      {"garbage Last-Modified",   get, {}, 200, {{"Last-Modified", "yesterday"}}, Reason::no_freshness_information},
      {"public alone",            get, {}, 200, {{"Cache-Control", "public"}}, Reason::no_freshness_information},
      {"ETag only",               get, {}, 200, {{"ETag", "\"v1\""}}, Reason::ok},
      {"Last-Modified (heuristic)", get, {}, 200, {{"Last-Modified", lm}}, Reason::ok},
      {"Expires: 0",              get, {}, 200, {{"Expires", "0"}}, Reason::ok},
      {"max-age=abc",             get, {}, 200, {{"Cache-Control", "max-age=abc"}}, Reason::ok},
      {"no-cache with ETag",      get, {}, 200, {{"Cache-Control", "no-cache"}, {"ETag", "\"v1\""}}, Reason::ok},
  };
  // clang-format on
  const StorableRow row = GENERATE_REF(from_range(rows));
  CAPTURE(row.name);
  const cacheproxy::Fields request = make_fields(row.request);
  const StoreVerdict verdict = response_storable(RequestView{row.method, request}, row.status,
                                                 make_fields(row.response), PolicyConfig{});
  CHECK(verdict.reason == row.reason);
  CHECK(verdict.storable == (row.reason == Reason::ok));
}

namespace {

struct EvaluateRow {
  std::string name;
  Lines request;
  Lines response;  // plus Date: t0; request and response times are t0
  seconds now;     // now - t0
  Action action;
  Reason reason;
  seconds age;
};

EntryMeta entry_at_t0(const Lines& response) {
  EntryMeta entry;
  entry.status = 200;
  entry.headers = make_fields(response);
  entry.headers.insert(http::field::date, date(seconds{0}));
  entry.request_time = t0;
  entry.response_time = t0;
  return entry;
}

}  // namespace

TEST_CASE("evaluate_entry", "[policy]") {
  const auto s = [](std::int64_t n) { return seconds{n}; };
  const auto serve = Action::serve;
  const auto revalidate = Action::revalidate;
  const auto fetch = Action::fetch;
  const Lines max_age{{"Cache-Control", "max-age=60"}};
  const Lines etag{{"Cache-Control", "max-age=60"}, {"ETag", "\"v1\""}};
  const auto cc = [](std::string value) { return Lines{{"Cache-Control", std::move(value)}}; };
  // clang-format off
  const std::vector<EvaluateRow> rows{
      {"fresh",                         {}, max_age, s(30), serve, Reason::fresh, s(30)},
      {"stale at the lifetime",         {}, max_age, s(60), fetch, Reason::no_validator, s(60)},
      {"stale with ETag",               {}, etag, s(61), revalidate, Reason::stale, s(61)},
      {"stale with Last-Modified",      {}, {{"Cache-Control", "max-age=60"}, {"Last-Modified", date(s(-10))}},
       s(90), revalidate, Reason::stale, s(90)},
      {"stale, garbage Last-Modified",  {}, {{"Cache-Control", "max-age=60"}, {"Last-Modified", "garbage"}},
       s(90), fetch, Reason::no_validator, s(90)},
      {"request no-cache",              cc("no-cache"), etag, s(1), revalidate, Reason::request_no_cache, s(1)},
      {"request no-cache, no validator", cc("no-cache"), max_age, s(1), fetch, Reason::request_no_cache, s(1)},
      {"Pragma: no-cache",              {{"Pragma", "no-cache"}}, etag, s(1), revalidate, Reason::request_no_cache, s(1)},
      {"Pragma ignored with Cache-Control", {{"Pragma", "no-cache"}, {"Cache-Control", "x-y"}}, etag,
       s(1), serve, Reason::fresh, s(1)},
      {"response no-cache",             {}, {{"Cache-Control", "no-cache, max-age=60"}, {"ETag", "\"v1\""}},
       s(1), revalidate, Reason::response_no_cache, s(1)},
      {"response no-cache, no validator", {}, cc("no-cache, max-age=60"), s(1), fetch, Reason::response_no_cache, s(1)},
      // RFC 9111 §5.2.2.4: served, without Set-Cookie (fields_withheld_unvalidated).
      {"no-cache=Set-Cookie, Set-Cookie stored", {},
       {{"Cache-Control", "no-cache=\"Set-Cookie\", max-age=60"}, {"Set-Cookie", "a=1"}, {"ETag", "\"v1\""}},
       s(1), serve, Reason::fresh, s(1)},
      {"no-cache=Set-Cookie, stale", {},
       {{"Cache-Control", "no-cache=\"Set-Cookie\", max-age=60"}, {"Set-Cookie", "a=1"}, {"ETag", "\"v1\""}},
       s(61), revalidate, Reason::stale, s(61)},
      {"no-cache and no-cache=Set-Cookie", {},
       {{"Cache-Control", "no-cache, no-cache=\"Set-Cookie\", max-age=60"}, {"Set-Cookie", "a=1"}, {"ETag", "\"v1\""}},
       s(1), revalidate, Reason::response_no_cache, s(1)},
      {"no-cache=Set-Cookie, none stored", {},
       {{"Cache-Control", "no-cache=\"Set-Cookie\", max-age=60"}, {"ETag", "\"v1\""}},
       s(1), serve, Reason::fresh, s(1)},
      {"request max-age exceeded",      cc("max-age=10"), etag, s(30), revalidate, Reason::request_max_age, s(30)},
      {"request max-age=0",             cc("max-age=0"), etag, s(1), revalidate, Reason::request_max_age, s(1)},
      {"request max-age=abc means 0",   cc("max-age=abc"), etag, s(1), revalidate, Reason::request_max_age, s(1)},
      {"request max-age equal to age",  cc("max-age=30"), etag, s(30), serve, Reason::fresh, s(30)},
      {"request min-fresh not met",     cc("min-fresh=40"), etag, s(30), revalidate, Reason::request_min_fresh, s(30)},
      {"request min-fresh met",         cc("min-fresh=30"), etag, s(30), serve, Reason::fresh, s(30)},
      {"max-stale within",              cc("max-stale=20"), etag, s(70), serve, Reason::stale, s(70)},
      {"max-stale exceeded",            cc("max-stale=5"), etag, s(70), revalidate, Reason::stale, s(70)},
      {"max-stale without value",       cc("max-stale"), max_age, s(1000000), serve, Reason::stale, s(1000000)},
      {"max-stale=abc means 0",         cc("max-stale=abc"), etag, s(61), revalidate, Reason::stale, s(61)},
      {"max-stale vs must-revalidate",  cc("max-stale"), {{"Cache-Control", "max-age=60, must-revalidate"}, {"ETag", "\"v1\""}},
       s(70), revalidate, Reason::stale, s(70)},
      {"max-stale vs proxy-revalidate", cc("max-stale"), {{"Cache-Control", "max-age=60, proxy-revalidate"}, {"ETag", "\"v1\""}},
       s(70), revalidate, Reason::stale, s(70)},
      {"max-stale vs s-maxage",         cc("max-stale"), {{"Cache-Control", "s-maxage=60"}, {"ETag", "\"v1\""}},
       s(70), revalidate, Reason::stale, s(70)},
      {"max-stale with min-fresh",      cc("max-stale, min-fresh=1"), etag, s(70), revalidate, Reason::stale, s(70)},
      {"Expires: 0",                    {}, {{"Expires", "0"}, {"ETag", "\"v1\""}}, s(0), revalidate, Reason::stale, s(0)},
      {"Expires in the future",         {}, {{"Expires", date(s(120))}}, s(100), serve, Reason::fresh, s(100)},
      {"heuristic fresh",               {}, {{"Last-Modified", date(s(-1000))}}, s(50), serve, Reason::fresh, s(50)},
      {"heuristic stale",               {}, {{"Last-Modified", date(s(-1000))}}, s(150), revalidate, Reason::stale, s(150)},
      {"Age counts",                    {}, {{"Cache-Control", "max-age=60"}, {"Age", "50"}}, s(20), fetch,
       Reason::no_validator, s(70)},
      {"garbage Age is ignored",        {}, {{"Cache-Control", "max-age=60"}, {"Age", "x"}}, s(20), serve,
       Reason::fresh, s(20)},
      {"conflicting max-age is stale",  {}, cc("max-age=5, max-age=600"), s(1), fetch, Reason::no_validator, s(1)},
      // RFC 8246: immutable and fresh ignores a reload's max-age=0, not a forced no-cache.
      {"immutable, reload",             cc("max-age=0"), {{"Cache-Control", "max-age=60, immutable"}, {"ETag", "\"v1\""}},
       s(30), serve, Reason::fresh, s(30)},
      {"immutable, forced reload",      cc("no-cache"), {{"Cache-Control", "max-age=60, immutable"}, {"ETag", "\"v1\""}},
       s(30), revalidate, Reason::request_no_cache, s(30)},
      {"immutable but stale",           cc("max-age=0"), {{"Cache-Control", "max-age=60, immutable"}, {"ETag", "\"v1\""}},
       s(70), revalidate, Reason::request_max_age, s(70)},
      // RFC 9111 §5.2.1.7: only-if-cached never revalidates; the caller answers 504.
      {"only-if-cached, fresh",         cc("only-if-cached"), etag, s(30), serve, Reason::fresh, s(30)},
      {"only-if-cached, stale",         cc("only-if-cached"), etag, s(70), fetch, Reason::stale, s(70)},
      {"only-if-cached, no-cache response", cc("only-if-cached"),
       {{"Cache-Control", "no-cache"}, {"ETag", "\"v1\""}}, s(1), fetch, Reason::response_no_cache, s(1)},
      // RFC 9111 §5.2.1.5: a no-store request may be served, but never updates the entry.
      {"request no-store, fresh",       cc("no-store"), etag, s(30), serve, Reason::fresh, s(30)},
      {"request no-store, stale",       cc("no-store"), etag, s(70), fetch, Reason::stale, s(70)},
  };
  // clang-format on
  const EvaluateRow row = GENERATE_REF(from_range(rows));
  CAPTURE(row.name);
  const cacheproxy::Fields request = make_fields(row.request);
  const LookupDecision decision =
      evaluate_entry(RequestView{http::verb::get, request}, entry_at_t0(row.response), t0 + row.now,
                     PolicyConfig{});
  CHECK(decision.action == row.action);
  CHECK(decision.reason == row.reason);
  CHECK(decision.age == row.age);
}

TEST_CASE("evaluate_entry answers HEAD from a GET entry", "[policy]") {
  const cacheproxy::Fields request;
  const LookupDecision decision = evaluate_entry(RequestView{http::verb::head, request},
                                                 entry_at_t0({{"Cache-Control", "max-age=60"}}),
                                                 t0 + seconds{1}, PolicyConfig{});
  CHECK(decision.action == Action::serve);
  CHECK(decision.reason == Reason::fresh);
}

namespace {

struct VaryRow {
  std::string name;
  std::string vary;
  Lines stored_request;  // the request that produced the entry
  Lines request;         // the new request
  bool matches;
};

}  // namespace

TEST_CASE("evaluate_entry matches Vary-nominated request fields", "[policy]") {
  const Lines gzip{{"Accept-Encoding", "gzip"}};
  const std::string ae = "Accept-Encoding";
  // clang-format off
  const std::vector<VaryRow> rows{
      {"same value",            ae, gzip, gzip, true},
      {"different value",       ae, gzip, {{"Accept-Encoding", "br"}}, false},
      {"both absent",           ae, {}, {}, true},
      {"absent now",            ae, gzip, {}, false},
      {"absent before",         ae, {}, gzip, false},
      {"empty is not absent",   ae, {{"Accept-Encoding", ""}}, {}, false},
      {"lines combined",        ae, {{"Accept-Encoding", "gzip, br"}},
       {{"Accept-Encoding", "gzip"}, {"Accept-Encoding", " br "}}, true},
      {"whitespace at commas",  ae, {{"Accept-Encoding", "gzip,br"}}, {{"Accept-Encoding", "gzip ,  br"}}, true},
      {"order matters",         ae, {{"Accept-Encoding", "gzip, br"}}, {{"Accept-Encoding", "br, gzip"}}, false},
      {"names case-insensitive", "ACCEPT-ENCODING", {{"accept-encoding", "gzip"}}, gzip, true},
      {"unrelated fields ignored", ae, {{"Accept-Encoding", "gzip"}, {"Cookie", "a=1"}},
       {{"Accept-Encoding", "gzip"}, {"Cookie", "b=2"}}, true},
      {"second field differs",  "Accept-Encoding, User-Agent",
       {{"Accept-Encoding", "gzip"}, {"User-Agent", "curl/8"}},
       {{"Accept-Encoding", "gzip"}, {"User-Agent", "wget/1"}}, false},
      {"both fields match",     "Accept-Encoding, User-Agent",
       {{"Accept-Encoding", "gzip"}, {"User-Agent", "curl/8"}},
       {{"User-Agent", "curl/8"}, {"Accept-Encoding", "gzip"}}, true},
      {"Vary: *",               "*", {}, {}, false},
  };
  // clang-format on
  const VaryRow row = GENERATE_REF(from_range(rows));
  CAPTURE(row.name);
  const cacheproxy::Fields stored_request = make_fields(row.stored_request);
  const cacheproxy::Fields response = make_fields(
      {{"Cache-Control", "max-age=60"}, {"Date", date(seconds{0})}, {"Vary", row.vary}});
  const EntryMeta entry =
      make_entry_meta(RequestView{http::verb::get, stored_request}, 200, response, t0, t0);
  const cacheproxy::Fields request = make_fields(row.request);
  const LookupDecision decision =
      evaluate_entry(RequestView{http::verb::get, request}, entry, t0 + seconds{5}, PolicyConfig{});
  CHECK(decision.action == (row.matches ? Action::serve : Action::fetch));
  CHECK(decision.reason == (row.matches ? Reason::fresh : Reason::vary_mismatch));
  CHECK(decision.age == seconds{5});
}

TEST_CASE("fields_withheld_unvalidated names the stored no-cache fields", "[policy]") {
  struct Row {
    const char* what;
    Lines stored;
    std::vector<std::string> withheld;
  };
  const std::vector<Row> rows{
      {"none named", {{"Cache-Control", "max-age=60"}, {"Set-Cookie", "a=1"}}, {}},
      {"named and stored", {{"Cache-Control", "no-cache=\"Set-Cookie\""}, {"Set-Cookie", "a=1"}},
       {"set-cookie"}},
      {"named but not stored", {{"Cache-Control", "no-cache=\"Set-Cookie\""}}, {}},
      {"a list, names case-insensitive",
       {{"Cache-Control", "no-cache=\"x-a, X-B, x-c\""}, {"X-A", "1"}, {"x-b", "2"}},
       {"x-a", "x-b"}},
      {"on two Cache-Control lines, repeated",
       {{"Cache-Control", "no-cache=\"X-A\""}, {"Cache-Control", "no-cache=\"x-a\""}, {"X-A", "1"}},
       {"x-a"}},
      {"unqualified no-cache withholds nothing (it always revalidates)",
       {{"Cache-Control", "no-cache"}, {"Set-Cookie", "a=1"}}, {}},
      {"private=\"f\" is not no-cache", {{"Cache-Control", "private=\"X-A\""}, {"X-A", "1"}}, {}},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    EntryMeta entry;
    entry.status = 200;
    entry.headers = make_fields(row.stored);
    CHECK(fields_withheld_unvalidated(entry) == row.withheld);
  }
}

TEST_CASE("add_conditional_headers", "[policy]") {
  const std::string lm = date(seconds{-3600});
  // clang-format off
  const auto [stored, expected] = GENERATE_COPY(table<Lines, Lines>({
      {{{"ETag", "\"v1\""}, {"Last-Modified", lm}},
       {{"Accept", "*/*"}, {"If-None-Match", "\"v1\""}, {"If-Modified-Since", lm}}},
      {{{"ETag", "W/\"weak\""}}, {{"Accept", "*/*"}, {"If-None-Match", "W/\"weak\""}}},
      {{{"Last-Modified", lm}},  {{"Accept", "*/*"}, {"If-Modified-Since", lm}}},
      {{{"Last-Modified", "garbage"}}, {{"Accept", "*/*"}}},
      {{},                       {{"Accept", "*/*"}}},
  }));
  // clang-format on
  EntryMeta entry;
  entry.headers = make_fields(stored);
  // The client's own preconditions are replaced, whatever the entry has.
  cacheproxy::Fields origin_request = make_fields({{"If-None-Match", "\"client\""},
                                             {"Accept", "*/*"},
                                             {"If-Modified-Since", date(seconds{-1})},
                                             {"If-Match", "\"m\""},
                                             {"If-Unmodified-Since", date(seconds{-2})},
                                             {"If-Range", "\"r\""}});
  add_conditional_headers(entry, origin_request);
  CHECK(lines_of(origin_request) == expected);
}

TEST_CASE("merge_not_modified refreshes stored fields but not framing", "[policy]") {
  EntryMeta stored;
  stored.status = 200;
  stored.headers = make_fields({{"Content-Length", "10"},
                                {"Content-Type", "text/plain"},
                                {"Content-Encoding", "gzip"},
                                {"ETag", "\"a\""},
                                {"Cache-Control", "max-age=60"},
                                {"Date", date(seconds{0})},
                                {"Age", "5"},
                                {"X-Old", "kept"},
                                {"Link", "<a>"},
                                {"Link", "<b>"},
                                {"Vary", "Accept-Encoding"}});
  stored.vary_request_headers = make_fields({{"Accept-Encoding", "gzip"}});
  stored.request_time = t0;
  stored.response_time = t0;
  stored.body_size = 10;
  stored.body_id = 7;

  const cacheproxy::Fields not_modified = make_fields({{"Cache-Control", "max-age=120"},
                                                 {"ETag", "\"b\""},
                                                 {"Content-Length", "0"},
                                                 {"Content-Encoding", "br"},
                                                 {"Connection", "X-Hop"},
                                                 {"X-Hop", "1"},
                                                 {"Keep-Alive", "timeout=5"},
                                                 {"Transfer-Encoding", "chunked"},
                                                 {"Date", date(seconds{500})},
                                                 {"Link", "<c>"},
                                                 {"Vary", "Cookie"},
                                                 {"X-New", "added"}});
  const TimePoint request_time = t0 + seconds{499};
  const TimePoint response_time = t0 + seconds{500};
  const EntryMeta merged = merge_not_modified(stored, not_modified, request_time, response_time);

  // clang-format off
  const auto [field, expected] = GENERATE(table<std::string, std::vector<std::string>>({
      {"Content-Length", {"10"}},         {"Content-Type", {"text/plain"}},
      {"Content-Encoding", {"gzip"}},     {"ETag", {"\"b\""}},
      {"Cache-Control", {"max-age=120"}}, {"Date", {"Mon, 01 Jan 2024 00:08:20 GMT"}},
      {"Age", {}},                        {"X-Old", {"kept"}},
      {"X-New", {"added"}},               {"Link", {"<c>"}},
      {"Vary", {"Accept-Encoding"}},      {"Connection", {}},
      {"X-Hop", {}},                      {"Keep-Alive", {}},
      {"Transfer-Encoding", {}},
  }));
  // clang-format on
  CAPTURE(field);
  std::vector<std::string> values;
  for (const auto& line : field_lines(merged.headers, field)) values.emplace_back(line.value());
  CHECK(values == expected);
}

TEST_CASE("merge_not_modified keeps the body and refreshes the times", "[policy]") {
  EntryMeta stored;
  stored.status = 200;
  stored.headers = make_fields({{"Cache-Control", "max-age=60"},
                                {"ETag", "\"a\""},
                                {"Date", date(seconds{0})},
                                {"Vary", "Accept-Encoding"}});
  stored.vary_request_headers = make_fields({{"Accept-Encoding", "gzip"}});
  stored.request_time = t0;
  stored.response_time = t0;
  stored.body_size = 10;
  stored.body_id = 7;
  const TimePoint request_time = t0 + seconds{499};
  const TimePoint response_time = t0 + seconds{500};
  const EntryMeta merged = merge_not_modified(
      stored, make_fields({{"Cache-Control", "max-age=120"}, {"Date", date(seconds{500})}}),
      request_time, response_time);
  CHECK(merged.status == 200);
  CHECK(merged.request_time == request_time);
  CHECK(merged.response_time == response_time);
  CHECK(merged.body_size == 10);
  CHECK(merged.body_id == 7);
  CHECK(lines_of(merged.vary_request_headers) == Lines{{"Accept-Encoding", "gzip"}});
  // Fresh again: max-age=120 from the 304, aged from its Date plus the one second the
  // revalidation took.
  const cacheproxy::Fields request = make_fields({{"Accept-Encoding", "gzip"}});
  const LookupDecision decision = evaluate_entry(RequestView{http::verb::get, request}, merged,
                                                 response_time + seconds{100}, PolicyConfig{});
  CHECK(decision.action == Action::serve);
  CHECK(decision.reason == Reason::fresh);
  CHECK(decision.age == seconds{101});
}

TEST_CASE("merge_not_modified without Date or Age starts the age afresh", "[policy]") {
  EntryMeta stored;
  stored.status = 200;
  stored.headers = make_fields({{"Cache-Control", "max-age=60"},
                                {"ETag", "\"a\""},
                                {"Date", date(seconds{0})},
                                {"Age", "30"}});
  stored.request_time = t0;
  stored.response_time = t0;
  const TimePoint later = t0 + seconds{3600};
  const EntryMeta merged =
      merge_not_modified(stored, make_fields({{"ETag", "\"a\""}}), later, later);
  // The old Date is gone; the one added is the 304's arrival (RFC 9110 §6.6.1).
  CHECK(merged.headers[http::field::date] == format_http_date(later));
  CHECK(merged.headers.count(http::field::age) == 0);
  CHECK(current_age(merged, later + seconds{10}) == seconds{10});
}

TEST_CASE("merge_not_modified honours a qualified private in the 304", "[policy]") {
  EntryMeta stored;
  stored.headers = make_fields({{"Cache-Control", "max-age=60"}, {"X-Secret", "old"}});
  const EntryMeta merged = merge_not_modified(
      stored,
      make_fields({{"Cache-Control", "max-age=60, private=\"X-Secret\""}, {"X-Secret", "new"}}), t0,
      t0);
  CHECK(merged.headers.count("x-secret") == 0);
  CHECK(merged.headers[http::field::cache_control] == "max-age=60, private=\"X-Secret\"");
}

TEST_CASE("make_entry_meta keeps end-to-end fields and Vary's request fields", "[policy]") {
  const cacheproxy::Fields request = make_fields({{"Accept-Encoding", "gzip"},
                                            {"Accept-Encoding", "br"},
                                            {"Cookie", "a=1"},
                                            {"User-Agent", "curl/8"}});
  const cacheproxy::Fields response = make_fields({{"Connection", "close, X-Conn"},
                                             {"X-Conn", "v"},
                                             {"Keep-Alive", "timeout=5"},
                                             {"Transfer-Encoding", "chunked"},
                                             {"Proxy-Authenticate", "Basic"},
                                             {"Cache-Control", "max-age=60, private=\"X-Priv\""},
                                             {"Cache-Control", "no-cache=\"Set-Cookie\""},
                                             {"X-Priv", "p"},
                                             {"Set-Cookie", "s=1"},
                                             {"Vary", "Accept-Encoding, Accept-Language"},
                                             {"Vary", "accept-encoding"},
                                             {"Content-Length", "3"}});
  const TimePoint request_time = t0 - seconds{1};
  const EntryMeta meta =
      make_entry_meta(RequestView{http::verb::get, request}, 203, response, request_time, t0);
  CHECK(meta.status == 203);
  CHECK(meta.request_time == request_time);
  CHECK(meta.response_time == t0);
  CHECK(meta.body_size == 0);
  CHECK(meta.body_id == 0);
  CHECK(lines_of(meta.headers) == Lines{{"Cache-Control", "max-age=60, private=\"X-Priv\""},
                                        {"Cache-Control", "no-cache=\"Set-Cookie\""},
                                        {"Set-Cookie", "s=1"},
                                        {"Vary", "Accept-Encoding, Accept-Language"},
                                        {"Vary", "accept-encoding"},
                                        {"Content-Length", "3"},
                                        // RFC 9110 §6.6.1: the origin sent none.
                                        {"Date", format_http_date(t0)}});
  CHECK(lines_of(meta.vary_request_headers) ==
        Lines{{"Accept-Encoding", "gzip"}, {"Accept-Encoding", "br"}});
}

TEST_CASE("a response without Date is stored and refreshed with the time it arrived",
          "[policy]") {
  // RFC 9110 §6.6.1: a recipient with a clock adds Date when it caches or forwards.
  const cacheproxy::Fields request;
  const cacheproxy::Fields with_date = make_fields({{"Date", format_http_date(t0 - seconds{30})}});
  const EntryMeta kept = make_entry_meta(RequestView{http::verb::get, request}, 200, with_date,
                                         t0 - seconds{1}, t0);
  CHECK(lines_of(kept.headers) == Lines{{"Date", format_http_date(t0 - seconds{30})}});

  cacheproxy::Fields forwarded = make_fields({{"X-A", "1"}});
  CHECK(add_date_if_missing(forwarded, t0));
  CHECK_FALSE(add_date_if_missing(forwarded, t0 + seconds{5}));
  CHECK(lines_of(forwarded) == Lines{{"X-A", "1"}, {"Date", format_http_date(t0)}});

  // A 304 without Date: the refreshed entry's Date is when the 304 arrived, so its age
  // restarts instead of counting from the old Date.
  const TimePoint later = t0 + seconds{600};
  const EntryMeta merged = merge_not_modified(kept, make_fields({{"ETag", "\"v2\""}}),
                                              later, later);
  CHECK(merged.headers[http::field::date] == format_http_date(later));
  CHECK(current_age(merged, later) == seconds{0});
}
