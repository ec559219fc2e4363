#include "cache/preconditions.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

using namespace cacheproxy::cache;
using std::chrono::seconds;

namespace {

using Lines = std::vector<std::pair<std::string, std::string>>;

const TimePoint t0{seconds{1704067200}};
const std::string lm = "Sun, 06 Nov 1994 08:49:37 GMT";

cacheproxy::Fields make_fields(const Lines& lines) {
  cacheproxy::Fields fields;
  for (const auto& [name, value] : lines) fields.insert(name, value);
  return fields;
}

EntryMeta stored(unsigned status, const Lines& lines) {
  EntryMeta e;
  e.status = status;
  e.headers = make_fields(lines);
  e.request_time = t0;
  e.response_time = t0;
  return e;
}

}  // namespace

TEST_CASE("entity-tag comparison (RFC 9110 8.8.3.2)", "[preconditions]") {
  const auto [a, b, strong, weak] = GENERATE(table<std::string, std::string, bool, bool>({
      {"\"1\"", "\"1\"", true, true},
      {"W/\"1\"", "W/\"1\"", false, true},
      {"W/\"1\"", "\"1\"", false, true},
      {"\"1\"", "\"2\"", false, false},
      {"W/\"1\"", "W/\"2\"", false, false},
      {"1", "1", false, false},
      {"\"1\"", "", false, false},
      {"\"a\"", "\"A\"", false, false},
      {"w/\"1\"", "\"1\"", false, false},
  }));
  CAPTURE(a, b);
  CHECK(strong_etag_match(a, b) == strong);
  CHECK(weak_etag_match(a, b) == weak);
}

TEST_CASE("client_has_current evaluates If-None-Match then If-Modified-Since", "[preconditions]") {
  struct Row {
    std::string name;
    http::verb method;
    Lines request;
    unsigned status;
    Lines response;
    bool current;
  };
  const auto get = http::verb::get;
  const Lines entry{{"ETag", "\"a\""}, {"Last-Modified", lm}, {"Date", format_http_date(t0)}};
  // clang-format off
  const std::vector<Row> rows{
      {"no conditions",               get, {}, 200, entry, false},
      {"INM matching",                get, {{"If-None-Match", "\"a\""}}, 200, entry, true},
      {"INM weak matches strong",     get, {{"If-None-Match", "W/\"a\""}}, 200, entry, true},
      {"INM list",                    get, {{"If-None-Match", "\"x\", \"a\""}}, 200, entry, true},
      {"INM two lines",               get, {{"If-None-Match", "\"x\""}, {"If-None-Match", "\"a\""}}, 200, entry, true},
      {"INM star",                    get, {{"If-None-Match", "*"}}, 200, entry, true},
      {"INM other",                   get, {{"If-None-Match", "\"b\""}}, 200, entry, false},
      {"INM unquoted",                get, {{"If-None-Match", "a"}}, 200, entry, false},
      {"INM on entry without ETag",   get, {{"If-None-Match", "\"a\""}}, 200, {{"Last-Modified", lm}}, false},
      {"INM wins over IMS",           get, {{"If-None-Match", "\"b\""}, {"If-Modified-Since", lm}}, 200, entry, false},
      {"IMS equal",                   get, {{"If-Modified-Since", lm}}, 200, entry, true},
      {"IMS later",                   get, {{"If-Modified-Since", "Mon, 07 Nov 1994 08:49:37 GMT"}}, 200, entry, true},
      {"IMS earlier",                 get, {{"If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}, 200, entry, false},
      {"IMS invalid",                 get, {{"If-Modified-Since", "yesterday"}}, 200, entry, false},
      {"IMS twice",                   get, {{"If-Modified-Since", lm}, {"If-Modified-Since", lm}}, 200, entry, false},
      {"IMS against Date",            get, {{"If-Modified-Since", format_http_date(t0)}}, 200,
       {{"Date", format_http_date(t0)}}, true},
      {"IMS against receive time",    get, {{"If-Modified-Since", format_http_date(t0)}}, 200, {}, true},
      {"HEAD",                        http::verb::head, {{"If-None-Match", "\"a\""}}, 200, entry, true},
      {"POST is never answered",      http::verb::post, {{"If-None-Match", "\"a\""}}, 200, entry, false},
      {"stored 404",                  get, {{"If-None-Match", "\"a\""}}, 404, entry, false},
      {"with If-Match",               get, {{"If-None-Match", "\"a\""}, {"If-Match", "\"a\""}}, 200, entry, false},
      {"with If-Range",               get, {{"If-None-Match", "\"a\""}, {"If-Range", "\"a\""}}, 200, entry, false},
  };
  // clang-format on
  const Row row = GENERATE_REF(from_range(rows));
  CAPTURE(row.name);
  const cacheproxy::Fields request = make_fields(row.request);
  CHECK(client_has_current(RequestView{row.method, request}, stored(row.status, row.response)) ==
        row.current);
}

TEST_CASE("not_modified_fields keeps what a 304 must repeat (RFC 9110 15.4.5)", "[preconditions]") {
  const EntryMeta with_etag =
      stored(200, {{"Cache-Control", "max-age=60"}, {"ETag", "\"a\""}, {"Last-Modified", lm},
                   {"Content-Type", "text/plain"}, {"Content-Length", "7"}, {"Set-Cookie", "x=1"},
                   {"Vary", "Accept"}, {"Expires", lm}, {"Date", lm}, {"Content-Location", "/a"}});
  const cacheproxy::Fields f = not_modified_fields(with_etag);
  for (const char* name : {"Cache-Control", "ETag", "Vary", "Expires", "Date", "Content-Location"})
    CHECK(f.count(name) == 1);
  for (const char* name : {"Last-Modified", "Content-Type", "Content-Length", "Set-Cookie"})
    CHECK(f.count(name) == 0);
  const cacheproxy::Fields without_etag = not_modified_fields(stored(200, {{"Last-Modified", lm}}));
  CHECK(without_etag.count("Last-Modified") == 1);
}

TEST_CASE("not_modified_selects follows RFC 9111 4.3.4", "[preconditions]") {
  const auto [stored_etag, new_etag, selects] = GENERATE(table<std::string, std::string, bool>({
      {"\"a\"", "\"a\"", true},
      {"\"a\"", "\"b\"", false},
      {"\"a\"", "", true},
      {"", "\"a\"", false},
      {"", "", true},
      {"W/\"a\"", "W/\"a\"", true},
      {"\"a\"", "W/\"a\"", true},
      {"W/\"a\"", "\"a\"", false},
      {"W/\"a\"", "W/\"b\"", false},
      {"\"a\"", "garbage", false},
  }));
  CAPTURE(stored_etag, new_etag);
  Lines s;
  if (!stored_etag.empty()) s.emplace_back("ETag", stored_etag);
  Lines n;
  if (!new_etag.empty()) n.emplace_back("ETag", new_etag);
  CHECK(not_modified_selects(stored(200, s), make_fields(n)) == selects);
}
