#include "cache/policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"
#include "cache/hop_by_hop.hpp"
#include "cache/variants.hpp"

namespace cacheproxy::cache {

namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 19> reason_names{{
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
}};

// The table is indexed by the enumerator's value: keep it in declaration order.
constexpr bool reason_names_in_order() {
  for (std::size_t i = 0; i < reason_names.size(); ++i) {
    if (static_cast<std::size_t>(reason_names[i].first) != i) return false;
  }
  return true;
}
static_assert(reason_names_in_order(), "reason_names must follow the order of enum Reason");

// Final status codes whose semantics (RFC 9110 §15) this cache understands, so it may store
// them (RFC 9111 §3) and honour must-understand for them (§5.2.2.3). Left out: 206 (partial
// content is not stored, so it is never combined wrongly, §3.3-3.4), 304 (it updates a stored
// response, §4.3.4), 205 and 1xx (no content to reuse), and codes this table does not know.
constexpr std::array<unsigned, 27> understood_statuses{
    200, 201, 202, 203, 204, 300, 301, 302, 303, 307, 308, 400, 401, 403,
    404, 405, 406, 409, 410, 414, 421, 451, 500, 501, 502, 503, 504};

// Request methods whose lookups may use the cache: HEAD is answered from GET entries
// (RFC 9110 §9.3.2), but only responses to GET are stored.
constexpr std::array<http::verb, 2> lookup_methods{http::verb::get, http::verb::head};

// RFC 9110 §13.1: the preconditions a client may send, replaced by the cache's own when it
// revalidates (RFC 9111 §4.3.1).
constexpr std::array<http::field, 5> conditional_fields{
    http::field::if_match, http::field::if_none_match, http::field::if_modified_since,
    http::field::if_unmodified_since, http::field::if_range};

// Fields a 304 never updates in a stored response (RFC 9111 §3.2): Content-Length, the
// fields describing how the stored body is encoded and framed (we store the body as
// received, so these must keep describing it), and Vary, which selected the stored
// variant and is keyed by the request fields recorded at store time.
constexpr std::array<http::field, 5> not_updated_by_304{
    http::field::content_length, http::field::content_encoding, http::field::transfer_encoding,
    http::field::content_range, http::field::vary};

// Fields that describe one message rather than the representation: after a 304 they must
// come from the 304 or not at all, or the new response_time would meet an old Date/Age and
// make the refreshed entry look old (RFC 9111 §4.2.3).
constexpr std::array<http::field, 2> per_message_fields{http::field::date, http::field::age};

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

template <class T, std::size_t N>
bool contains(const std::array<T, N>& table, const T& value) {
  return std::find(table.begin(), table.end(), value) != table.end();
}

bool has_vary_star(const Fields& response_headers) {
  const auto names = vary_field_names(response_headers);
  return std::find(names.begin(), names.end(), "*") != names.end();
}

// RFC 9111 §4.1: the nominated request fields match when both are absent, or both present
// with the same value after normalizing whitespace and combining field lines.
bool vary_matches(const Fields& request_headers, const EntryMeta& entry,
                  const StoredFacts& facts) {
  for (const std::string& name : facts.vary_names) {
    if (name == "*") return false;  // RFC 9111 §4.1: "*" always fails to match
    if (combined_field_value(request_headers, name) !=
        combined_field_value(entry.vary_request_headers, name)) {
      return false;
    }
  }
  return true;
}

// RFC 9111 §5.2.2.7: a shared cache must not store the fields a qualified private names.
void erase_private_fields(Fields& headers) {
  for (const std::string& name : parse_response_cache_control(headers).private_fields) {
    headers.erase(name);
  }
}

LookupDecision revalidate_or_fetch(bool validator, Reason reason, Seconds age) {
  return {validator ? Action::revalidate : Action::fetch, reason, age};
}

// RFC 9111 §4: may the stored entry answer this request at `now`?
LookupDecision evaluate_stored(const RequestView& request, const RequestCacheControl& req,
                               const EntryMeta& entry, const StoredFacts& facts, TimePoint now,
                               const PolicyConfig& config) {
  const Seconds age = current_age(entry, facts, now);
  // RFC 9111 §4.1: a stored response with Vary is used only for matching requests.
  if (!vary_matches(request.headers, entry, facts)) {
    return {Action::fetch, Reason::vary_mismatch, age};
  }

  const ResponseCacheControl& res = facts.cache_control;
  const bool validator = facts.has_validator;

  // RFC 9111 §5.2.1.4 (and §5.4 for Pragma): the client wants the origin to confirm.
  if (req.no_cache) return revalidate_or_fetch(validator, Reason::request_no_cache, age);
  // RFC 9111 §5.2.2.4: no-cache responses are always revalidated. The qualified form,
  // no-cache="f", does not stop reuse: the response is served without f (see
  // fields_withheld_unvalidated).
  if (res.no_cache) return revalidate_or_fetch(validator, Reason::response_no_cache, age);
  const Seconds lifetime = freshness_lifetime(facts, config.heuristic).lifetime;
  // RFC 9111 §5.2.1.1: the client does not accept a response older than max-age. RFC 8246
  // §2: an immutable response is not revalidated while fresh, even on a reload (which
  // browsers send as max-age=0); a forced reload sends no-cache, handled above.
  const bool immutable_and_fresh = res.immutable && lifetime > age;
  if (req.max_age && age > *req.max_age && !immutable_and_fresh) {
    return revalidate_or_fetch(validator, Reason::request_max_age, age);
  }

  // RFC 9111 §4.2: fresh while the freshness lifetime exceeds the current age.
  if (lifetime > age) {
    // RFC 9111 §5.2.1.3: the response must stay fresh for at least min-fresh more.
    if (req.min_fresh && lifetime - age < *req.min_fresh) {
      return revalidate_or_fetch(validator, Reason::request_min_fresh, age);
    }
    return {Action::serve, Reason::fresh, age};
  }

  // Stale. RFC 9111 §5.2.1.2: max-stale lets the client accept it, unless the response
  // forbids serving it stale: must-revalidate (§5.2.2.2), proxy-revalidate (§5.2.2.8), or
  // s-maxage, which implies proxy-revalidate for a shared cache (§5.2.2.10). A client asking
  // for min-fresh does not want a stale response at all.
  const bool stale_forbidden = res.must_revalidate || res.proxy_revalidate || res.s_maxage;
  if (!stale_forbidden && !req.min_fresh && req.max_stale && age - lifetime <= *req.max_stale) {
    return {Action::serve, Reason::stale, age};
  }
  return validator ? LookupDecision{Action::revalidate, Reason::stale, age}
                   : LookupDecision{Action::fetch, Reason::no_validator, age};
}

}  // namespace

std::string_view to_string(Reason reason) {
  const auto index = static_cast<std::size_t>(reason);
  return index < reason_names.size() ? reason_names[index].second : "unknown";
}

StoreVerdict request_cacheable(const RequestView& request) {
  if (!contains(lookup_methods, request.method)) return {false, Reason::method_not_cacheable};
  // RFC 9111 §5.2.1.5: no-store in a request forbids storing any part of the response, but
  // not answering from a stored one: the lookup happens; response_storable and
  // evaluate_entry keep the request from storing or updating anything.
  return {true, Reason::ok};
}

StoreVerdict response_storable(const RequestView& request, unsigned status,
                               const Fields& response_headers, const PolicyConfig&) {
  // RFC 9111 §3: the method must be understood and cacheable; we store GET only.
  if (request.method != http::verb::get) return {false, Reason::method_not_cacheable};
  if (parse_request_cache_control(request.headers).no_store) {
    return {false, Reason::request_no_store};  // RFC 9111 §5.2.1.5
  }
  if (!contains(understood_statuses, status)) return {false, Reason::status_not_cacheable};

  const ResponseCacheControl cc = parse_response_cache_control(response_headers);
  // RFC 9111 §5.2.2.5. With must-understand, a cache that understands the status code SHOULD
  // ignore no-store (§5.2.2.3): the status was checked just above.
  if (cc.no_store && !cc.must_understand) return {false, Reason::response_no_store};
  // RFC 9111 §5.2.2.7: unqualified private forbids a shared cache to store the response.
  if (cc.private_) return {false, Reason::response_private};
  // RFC 9111 §3.5: a response to an authenticated request only with explicit permission.
  if (request.headers.count(http::field::authorization) > 0 &&
      !(cc.public_ || cc.s_maxage || cc.must_revalidate)) {
    return {false, Reason::request_authorization};
  }
  // RFC 9111 §4.1: Vary: * never matches a later request; storing it is pointless.
  if (has_vary_star(response_headers)) return {false, Reason::response_vary_star};
  // RFC 9111 §3: without explicit freshness (or public), only heuristically cacheable status
  // codes (RFC 9110 §15.1) may be stored.
  const LifetimeSource source = lifetime_source(status, cc, response_headers);
  const bool explicit_freshness = source == LifetimeSource::s_maxage ||
                                  source == LifetimeSource::max_age ||
                                  source == LifetimeSource::expires;
  if (!explicit_freshness && !cc.public_ && !heuristically_cacheable(status)) {
    return {false, Reason::status_not_cacheable};
  }
  // RFC 9111 §3: explicit expiry, a heuristic lifetime, or at least a validator so that the
  // entry can be revalidated; otherwise it could never be used.
  if (source == LifetimeSource::none && !has_validator(response_headers)) {
    return {false, Reason::no_freshness_information};
  }
  return {true, Reason::ok};
}

LookupDecision evaluate_entry(const RequestView& request, const EntryMeta& entry, TimePoint now,
                              const PolicyConfig& config) {
  return evaluate_entry(request, entry, stored_facts(entry), now, config);
}

LookupDecision evaluate_entry(const RequestView& request, const EntryMeta& entry,
                              const StoredFacts& facts, TimePoint now,
                              const PolicyConfig& config) {
  const RequestCacheControl req = parse_request_cache_control(request.headers);
  LookupDecision decision = evaluate_stored(request, req, entry, facts, now, config);
  if (decision.action == Action::revalidate) {
    // RFC 9111 §5.2.1.7: only-if-cached never contacts the origin, not even to revalidate;
    // the caller answers 504. RFC 9111 §5.2.1.5: a no-store request must not update the
    // stored response with a 304, so it fetches without conditions and stores nothing.
    if (req.only_if_cached || req.no_store) decision.action = Action::fetch;
  }
  return decision;
}

std::vector<std::string> fields_withheld_unvalidated(const EntryMeta& entry) {
  std::vector<std::string> withheld;
  for (const std::string& name : parse_response_cache_control(entry.headers).no_cache_fields) {
    if (entry.headers.count(name) > 0 &&
        std::find(withheld.begin(), withheld.end(), name) == withheld.end()) {
      withheld.push_back(name);
    }
  }
  return withheld;
}

void add_conditional_headers(const EntryMeta& entry, Fields& origin_request) {
  for (http::field name : conditional_fields) origin_request.erase(name);
  // RFC 9111 §4.3.1: send the stored entity tag in If-None-Match and the stored
  // Last-Modified in If-Modified-Since (a Last-Modified that is not a date is useless).
  const auto etag = entry.headers[http::field::etag];
  if (!etag.empty()) origin_request.set(http::field::if_none_match, etag);
  const auto last_modified = entry.headers[http::field::last_modified];
  if (parse_http_date(last_modified)) {
    origin_request.set(http::field::if_modified_since, last_modified);
  }
}

EntryMeta merge_not_modified(const EntryMeta& stored, const Fields& not_modified_headers,
                             TimePoint request_time, TimePoint response_time) {
  Fields update = not_modified_headers;
  remove_hop_by_hop(update);  // RFC 9111 §3.1: never stored
  for (http::field name : not_updated_by_304) update.erase(name);

  EntryMeta merged = stored;
  for (http::field name : per_message_fields) merged.headers.erase(name);
  // RFC 9111 §3.2: each field in the 304 replaces all stored lines of that field.
  std::vector<std::string> replaced;
  for (const auto& line : update) {
    std::string name = lowered(line.name_string());
    if (std::find(replaced.begin(), replaced.end(), name) == replaced.end()) {
      merged.headers.erase(name);
      replaced.push_back(std::move(name));
    }
  }
  for (const auto& line : update) merged.headers.insert(line.name_string(), line.value());
  erase_private_fields(merged.headers);
  merged.request_time = request_time;
  merged.response_time = response_time;
  // The 304's own Date replaced the stored one; without it, the time it was received.
  add_date_if_missing(merged.headers, response_time);
  return merged;
}

bool add_date_if_missing(Fields& response_headers, TimePoint received) {
  if (response_headers.count(http::field::date) > 0) return false;
  response_headers.set(http::field::date, format_http_date(received));
  return true;
}

EntryMeta make_entry_meta(const RequestView& request, unsigned status,
                          const Fields& response_headers, TimePoint request_time,
                          TimePoint response_time) {
  Fields copy = response_headers;
  return make_entry_meta(request, status, std::move(copy), request_time, response_time);
}

EntryMeta make_entry_meta(const RequestView& request, unsigned status,
                          Fields&& response_headers, TimePoint request_time,
                          TimePoint response_time) {
  EntryMeta meta;
  meta.status = status;
  meta.headers = std::move(response_headers);
  remove_hop_by_hop(meta.headers);
  erase_private_fields(meta.headers);
  // RFC 9111 §4.1: keep the request fields Vary nominates, all lines, as received. Fields
  // named by no-cache="..." are kept: they only need revalidation before being sent.
  for (const std::string& name : vary_field_names(meta.headers)) {
    for (const auto& line : field_lines(request.headers, name)) {
      meta.vary_request_headers.insert(line.name_string(), line.value());
    }
  }
  meta.request_time = request_time;
  meta.response_time = response_time;
  add_date_if_missing(meta.headers, response_time);
  return meta;
}

bool only_if_cached(const RequestView& request) {
  return parse_request_cache_control(request.headers).only_if_cached;
}

}  // namespace cacheproxy::cache
