// Caching decisions (RFC 9111) as pure functions of (request, stored response, clock).
// The I/O code asks these; it never re-derives them. Every verdict carries a reason that
// reaches the access log and the debug header.
#pragma once

#include "cache/entry.hpp"
#include "cache/freshness.hpp"
#include "cache/header_fields.hpp"

#include <boost/beast/http/verb.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace cacheproxy::cache {

enum class Reason {
  ok,
  method_not_cacheable,        // only GET (and HEAD, answered from GET entries) use the cache
  request_no_store,
  request_authorization,       // RFC 9111 §3.5
  status_not_cacheable,
  response_no_store,
  response_private,
  response_vary_star,
  no_freshness_information,    // not storable: no explicit lifetime, no heuristic
  incomplete_response,
  too_large,
  fresh,
  stale,
  request_no_cache,
  request_max_age,
  request_min_fresh,
  response_no_cache,
  vary_mismatch,
  no_validator,
};

std::string_view to_string(Reason reason);

struct PolicyConfig {
  HeuristicRules heuristic;
};

// The request as the policy sees it.
struct RequestView {
  http::verb method;
  const Fields& headers;
};

struct StoreVerdict {
  bool storable = false;
  Reason reason = Reason::ok;
};

// RFC 9111 §3: may this response to this request be stored?
StoreVerdict response_storable(const RequestView& request, unsigned status,
                               const Fields& response_headers, const PolicyConfig& config);

// Does the request allow a cache lookup at all (method, request no-store ...)?
StoreVerdict request_cacheable(const RequestView& request);

// RFC 9111 §5.2.1.7: only-if-cached — when no stored response can be used, the cache answers
// 504 instead of contacting the origin.
bool only_if_cached(const RequestView& request);

enum class Action {
  serve,       // fresh (or allowed stale): answer from the cache
  revalidate,  // send a conditional request; a 304 refreshes the entry
  fetch,       // the entry cannot be used: fetch anew
};

struct LookupDecision {
  Action action = Action::fetch;
  Reason reason = Reason::ok;
  Seconds age{0};  // current age of the entry at `now`, for the Age header
};

// RFC 9111 §4: may the stored entry answer this request at `now`?
LookupDecision evaluate_entry(const RequestView& request, const EntryMeta& entry, TimePoint now,
                              const PolicyConfig& config);
// The same with the entry's facts parsed beforehand (a memory-tier object keeps them, see
// CachedObject::facts); `facts` must be stored_facts(entry).
LookupDecision evaluate_entry(const RequestView& request, const EntryMeta& entry,
                              const StoredFacts& facts, TimePoint now, const PolicyConfig& config);

// RFC 9111 §5.2.2.4: the stored fields a qualified no-cache="..." names. The cache may use
// the response without revalidation "if the listed header fields are excluded": a response
// served from the cache without a revalidation in this exchange leaves them out; one that has
// just been revalidated with the origin sends them. Lower-case names, no repeats; usually none.
std::vector<std::string> fields_withheld_unvalidated(const EntryMeta& entry);

// RFC 9111 §4.3.1: adds If-None-Match / If-Modified-Since for the stored entry's validators to
// an origin request's header fields, replacing any the client sent.
void add_conditional_headers(const EntryMeta& entry, Fields& origin_request);

// RFC 9111 §4.3.4: the stored entry updated with a 304's header fields (Content-Length and
// similar framing fields are never replaced), with new request/response times.
EntryMeta merge_not_modified(const EntryMeta& stored, const Fields& not_modified_headers,
                             TimePoint request_time, TimePoint response_time);

// RFC 9110 §6.6.1: a recipient with a clock that caches or forwards a response without Date
// adds one for the time it received it. Returns whether it added one.
bool add_date_if_missing(Fields& response_headers, TimePoint received);

// Copies the response fields a stored entry keeps (RFC 9111 §3.1: everything but hop-by-hop
// and Connection-named fields, plus a Date if the origin sent none) and the request fields
// its Vary names.
EntryMeta make_entry_meta(const RequestView& request, unsigned status,
                          const Fields& response_headers, TimePoint request_time,
                          TimePoint response_time);
// The same, taking the response fields over instead of copying them (a fetched response whose
// header is not needed after it is stored).
EntryMeta make_entry_meta(const RequestView& request, unsigned status,
                          Fields&& response_headers, TimePoint request_time,
                          TimePoint response_time);

}  // namespace cacheproxy::cache
