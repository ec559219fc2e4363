#include "cache/preconditions.hpp"

#include <array>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

namespace {

struct EntityTag {
  bool weak = false;
  std::string_view opaque;  // with its quotes
};

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE.
std::optional<EntityTag> parse_etag(std::string_view text) {
  EntityTag tag;
  if (text.substr(0, 2) == "W/") {
    tag.weak = true;
    text.remove_prefix(2);
  }
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
  tag.opaque = text;
  return tag;
}

// RFC 9110 §15.4.5: a 304 repeats these fields of the 200 it stands for.
constexpr std::array<http::field, 6> not_modified_copied{
    http::field::cache_control, http::field::content_location, http::field::date,
    http::field::etag,          http::field::expires,          http::field::vary};

// RFC 9110 §13.1.2: does an If-None-Match field value match the stored ETag (weakly)?
bool if_none_match_matches(std::string_view condition, std::string_view stored_etag) {
  for (std::string_view member : split_list(condition)) {
    if (member == "*") return true;  // any current representation: the entry is one
    if (weak_etag_match(member, stored_etag)) return true;
  }
  return false;
}

// RFC 9111 §4.3.2: the modification time of a stored response is its Last-Modified, else its
// Date, else the time it was received.
TimePoint last_modified_of(const EntryMeta& entry) {
  if (auto lm = parse_http_date(entry.headers[http::field::last_modified])) return *lm;
  if (auto date = parse_http_date(entry.headers[http::field::date])) return *date;
  return entry.response_time;
}

}  // namespace

bool strong_etag_match(std::string_view a, std::string_view b) {
  const auto x = parse_etag(a);
  const auto y = parse_etag(b);
  return x && y && !x->weak && !y->weak && x->opaque == y->opaque;
}

bool weak_etag_match(std::string_view a, std::string_view b) {
  const auto x = parse_etag(a);
  const auto y = parse_etag(b);
  return x && y && x->opaque == y->opaque;
}

bool client_has_current(const RequestView& request, const EntryMeta& entry) {
  if (request.method != http::verb::get && request.method != http::verb::head) return false;
  if (entry.status / 100 != 2) return false;  // RFC 9110 §13.2.1: only for a 2xx
  const Fields& h = request.headers;
  // Preconditions that may make the origin answer 412 or 206 are not ours to evaluate
  // (RFC 9111 §4.3.2): the full stored response is the safe answer.
  for (http::field f : {http::field::if_match, http::field::if_unmodified_since,
                        http::field::if_range}) {
    if (h.count(f) > 0) return false;
  }
  // RFC 9110 §13.2.2 step 3: If-None-Match, when present, decides (If-Modified-Since is then
  // ignored, §13.1.3).
  if (const auto inm = combined_field_value(h, "if-none-match")) {
    return if_none_match_matches(*inm, entry.headers[http::field::etag]);
  }
  // Step 4: If-Modified-Since, ignored unless it is one valid HTTP-date (§13.1.3).
  const FieldLines ims_lines = field_lines(h, "if-modified-since");
  if (ims_lines.begin() == ims_lines.end() || std::next(ims_lines.begin()) != ims_lines.end()) {
    return false;
  }
  const auto since = parse_http_date(ims_lines.begin()->value());
  return since && last_modified_of(entry) <= *since;
}

Fields not_modified_fields(const EntryMeta& entry) {
  Fields out;
  for (http::field name : not_modified_copied) {
    for (const auto& line : field_lines(entry.headers, http::to_string(name))) {
      out.insert(line.name_string(), line.value());
    }
  }
  // RFC 9110 §15.4.5: other metadata only when it guides cache updates, e.g. Last-Modified
  // for a response without ETag.
  if (entry.headers.count(http::field::etag) == 0) {
    for (const auto& line : field_lines(entry.headers, "last-modified")) {
      out.insert(line.name_string(), line.value());
    }
  }
  return out;
}

bool not_modified_selects(const EntryMeta& stored, const Fields& not_modified) {
  const auto new_etag = not_modified[http::field::etag];
  if (new_etag.empty()) return true;
  const auto stored_etag = stored.headers[http::field::etag];
  const auto tag = parse_etag(new_etag);
  if (!tag) return false;
  return tag->weak ? weak_etag_match(new_etag, stored_etag)
                   : strong_etag_match(new_etag, stored_etag);
}

}  // namespace cacheproxy::cache
