// RFC 9111 §3.1 (storing header fields) and RFC 9110 §7.6.1 (hop-by-hop fields), over sockets.
#include <catch2/catch.hpp>

#include "conformance/conformance.hpp"

using namespace cacheproxy::conformance;

namespace {

// The origin sends `extra` with a cacheable response; both the relayed miss and the hit must
// satisfy `checks`.
Case fields_case(std::string rfc, std::string name, Fields extra, std::vector<FieldCheck> checks) {
  extra.emplace_back("Cache-Control", "max-age=3600");
  Step miss = get().origin(1);
  Step hit = get().expect_body("payload").expect(has("Age")).origin(1);
  for (const auto& c : checks) {
    miss.expect(c);
    hit.expect(c);
  }
  return Case{std::move(rfc), std::move(name), {answer(200, std::move(extra))}, {miss, hit}};
}

std::vector<Case> header_cases() {
  std::vector<Case> cases;
  cases.push_back(fields_case("RFC 9111 §3.1; RFC 9110 §7.6.1",
                              "fields named by Connection are not relayed or stored",
                              {{"Connection", "X-Conn-Only"}, {"X-Conn-Only", "1"}, {"X-Kept", "2"}},
                              {lacks("X-Conn-Only"), is("X-Kept", "2")}));
  cases.push_back(fields_case("RFC 9111 §3.1; RFC 9110 §7.6.1",
                              "Connection naming several fields, in any case",
                              {{"Connection", "x-a, X-B"}, {"X-A", "1"}, {"x-b", "2"}, {"X-C", "3"}},
                              {lacks("X-A"), lacks("X-B"), is("X-C", "3")}));
  cases.push_back(fields_case("RFC 9111 §3.1; RFC 9110 §7.6.1", "two Connection lines",
                              {{"Connection", "X-A"}, {"Connection", "X-B"}, {"X-A", "1"}, {"X-B", "2"}},
                              {lacks("X-A"), lacks("X-B")}));
  for (const std::string field : {"Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
                                  "Proxy-Authenticate"}) {
    cases.push_back(fields_case("RFC 9111 §3.1; RFC 9110 §7.6.1, §11.7.1",
                                field + " is hop-by-hop: not relayed or stored",
                                {{field, "x"}}, {lacks(field)}));
  }
  for (const std::string field : {"X-Unknown-Field", "Foo-Bar", "Strict-Transport-Security",
                                  "Content-Security-Policy", "Link", "Accept-Ranges", "X-Empty"}) {
    cases.push_back(fields_case("RFC 9111 §3.1; RFC 9110 §5.1",
                                "end-to-end field " + field + " is kept",
                                {{field, field == "X-Empty" ? "" : "value-of-" + field}},
                                {has(field)}));
  }
  cases.push_back(fields_case("RFC 9111 §3.1, §7.1", "Set-Cookie is kept by a shared cache",
                              {{"Set-Cookie", "a=1; Path=/"}}, {is("Set-Cookie", "a=1; Path=/")}));
  cases.push_back(fields_case("RFC 9111 §3.1; RFC 6265 §3", "several Set-Cookie lines are all kept",
                              {{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}, {"Set-Cookie", "c=3"}},
                              {lines("Set-Cookie", 3), contains("Set-Cookie", "b=2")}));
  cases.push_back(fields_case("RFC 9110 §5.3", "repeated list fields keep every line",
                              {{"X-List", "a"}, {"X-List", "b"}}, {lines("X-List", 2)}));
  cases.push_back(fields_case("RFC 9110 §8.6", "Content-Length describes the stored body",
                              {}, {is("Content-Length", "7")}));
  cases.push_back(fields_case("RFC 9110 §7.6.3", "Via names the proxy on misses and hits", {},
                              {has("Via")}));
  cases.push_back(fields_case("RFC 9110 §6.6.1",
                              "a response without Date is relayed and stored with one", {},
                              {lines("Date", 1)}));
  cases.push_back(fields_case("RFC 9110 §6.6.1", "the origin's own Date is kept, not replaced",
                              {{"Date", "{date:-30}"}}, {lines("Date", 1)}));
  cases.push_back(fields_case("RFC 9110 §8.8.3", "ETag and Last-Modified are kept",
                              {{"ETag", "W/\"x\""}, {"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"}},
                              {is("ETag", "W/\"x\""), is("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT")}));
  // A chunked origin response is stored whole and served with Content-Length.
  {
    OriginResponse chunked = answer(200, {{"Cache-Control", "max-age=3600"}}, std::string(5000, 'c'));
    chunked.chunked = true;
    cases.push_back(Case{"RFC 9112 §7.1; RFC 9111 §3.1",
                         "a chunked response is stored without Transfer-Encoding",
                         {chunked},
                         {get().expect_body(std::string(5000, 'c')).origin(1),
                          get().expect_body(std::string(5000, 'c')).expect(lacks("Transfer-Encoding"))
                              .expect(is("Content-Length", "5000")).origin(1)}});
  }
  return cases;
}

}  // namespace

TEST_CASE("RFC 9111 3.1: stored header fields", "[conformance][headers]") {
  run_cases("headers", header_cases());
}
