// The RFC 9111 / RFC 9110 / RFC 5861 conformance suite: tables of cases, each citing the
// requirement it checks, run over real sockets against one in-process proxy and one scripted
// origin shared by the whole test program (or, for a table that needs a proxy option, a proxy
// and origin of its own: run_cases with a ProxySetup). Every case gets its own URL prefix, so
// cases never see each other's entries.
//
// A case is: the origin's answers in order (the last one repeats), then the client's requests,
// each with what the client must get and what the origin must have seen by then. The proxy
// runs on the real clock, so time-dependent cases put Date / Expires / Last-Modified in the
// past or future with the {date:±N} placeholder instead of sleeping.
//
// Placeholders, expanded in request and origin header values when they are used:
//   {date:N}  the IMF-fixdate of now + N seconds (N may be negative), {date:0} is now
//   {origin}  "http://127.0.0.1:PORT" of the test origin
//   {prefix}  the case's URL path prefix, e.g. "/freshness/12"
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/origin_server.hpp"

namespace cacheproxy {
struct Config;
}

namespace cacheproxy::conformance {

using Fields = std::vector<std::pair<std::string, std::string>>;
using testing::OriginRequest;
using testing::OriginResponse;

// One assertion on a header field of a message.
struct FieldCheck {
  enum class Kind { equals, present, absent, contains, lines, at_least, below };
  Kind kind;
  std::string name;
  std::string value;
};
inline FieldCheck is(std::string name, std::string value) {
  return {FieldCheck::Kind::equals, std::move(name), std::move(value)};
}
inline FieldCheck has(std::string name) { return {FieldCheck::Kind::present, std::move(name), {}}; }
inline FieldCheck lacks(std::string name) { return {FieldCheck::Kind::absent, std::move(name), {}}; }
// Some line of the field contains `part`.
inline FieldCheck contains(std::string name, std::string part) {
  return {FieldCheck::Kind::contains, std::move(name), std::move(part)};
}
// The field has exactly n lines.
inline FieldCheck lines(std::string name, std::size_t n) {
  return {FieldCheck::Kind::lines, std::move(name), std::to_string(n)};
}

// The field is a number >= n / < n (e.g. Age).
inline FieldCheck at_least(std::string name, long n) {
  return {FieldCheck::Kind::at_least, std::move(name), std::to_string(n)};
}
inline FieldCheck below(std::string name, long n) {
  return {FieldCheck::Kind::below, std::move(name), std::to_string(n)};
}

// One client request and what must hold once its response has been read.
struct Step {
  std::string method = "GET";
  std::string path = "/";  // below the case's prefix
  Fields headers;
  std::string body;
  int sleep_ms = 0;       // wait this long before sending (used sparingly)
  std::size_t parallel = 1;  // send this many identical requests at once, on separate connections
  // Send while nothing listens on the origin's port (connection refused, RFC 9111 §4.2.4
  // "disconnected"); the origin is back, on the same port, for the next step.
  bool origin_unreachable = false;

  unsigned status = 200;  // 0: the response must be cut off (incomplete)
  std::optional<std::string> body_is;
  std::vector<FieldCheck> response;
  std::optional<std::size_t> origin_total;  // requests the origin got for this case so far
  std::vector<FieldCheck> origin_saw;       // on the last request the origin got for the case

  Step& with(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Step& at(std::string p) {
    path = std::move(p);
    return *this;
  }
  Step& send_body(std::string b) {
    body = std::move(b);
    return *this;
  }
  Step& after_ms(int ms) {
    sleep_ms = ms;
    return *this;
  }
  Step& origin_down() {
    origin_unreachable = true;
    return *this;
  }
  Step& times(std::size_t n) {
    parallel = n;
    return *this;
  }
  Step& expect(unsigned s) {
    status = s;
    return *this;
  }
  Step& expect_body(std::string b) {
    body_is = std::move(b);
    return *this;
  }
  Step& expect(FieldCheck check) {
    response.push_back(std::move(check));
    return *this;
  }
  Step& origin(std::size_t total) {
    origin_total = total;
    return *this;
  }
  Step& origin_got(FieldCheck check) {
    origin_saw.push_back(std::move(check));
    return *this;
  }
};

inline Step request(std::string method) {
  Step s;
  s.method = std::move(method);
  return s;
}
inline Step get() { return request("GET"); }
inline Step head() { return request("HEAD"); }

struct Case {
  std::string rfc;   // e.g. "RFC 9111 §5.2.2.1"
  std::string name;  // what the case shows
  std::vector<OriginResponse> origin;  // answers in order; the last one repeats
  std::vector<Step> steps;
  // Behaviour implemented in branch `features`: skipped (with a note) unless the environment
  // sets CONFORMANCE_RUN_PENDING=1, so the lead can flip these on after merging.
  bool pending = false;
  // Optional: answers computed from the request (index counts this case's requests from 0).
  // When set, `origin` is not used.
  std::function<OriginResponse(const OriginRequest&, std::size_t index)> handler{};
};

// An origin answer: status, header fields (placeholders allowed), body.
OriginResponse answer(unsigned status, Fields headers, std::string body = "payload");

// Cases for the common shapes.
// Two GETs: the second is a hit (origin contacted once, Age present, same body).
Case stored_case(std::string rfc, std::string name, OriginResponse response, Fields request = {});
// Two GETs: both reach the origin.
Case not_stored_case(std::string rfc, std::string name, OriginResponse response,
                     Fields request = {});

Case pending(Case c);

// Runs the cases of one table; `table` names the URL prefix of its cases. With
// CONFORMANCE_LIST set, each case is also printed as a Markdown table row (docs/CONFORMANCE.md);
// with CONFORMANCE_SUMMARY set, a count per table.
void run_cases(const std::string& table, const std::vector<Case>& cases);

// Adjusts the proxy's configuration (Squid-style options such as refresh_pattern or
// offline_mode) for the cases of one table.
using ProxySetup = std::function<void(cacheproxy::Config&)>;

// The same, against a proxy of its own configured by `setup` (and an origin of its own),
// started for this table and stopped after it, so the option touches no other table.
void run_cases(const std::string& table, const std::vector<Case>& cases, const ProxySetup& setup);

}  // namespace cacheproxy::conformance
