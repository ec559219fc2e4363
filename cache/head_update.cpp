#include "cache/head_update.hpp"

#include <charconv>
#include <string_view>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"
#include "cache/policy.hpp"

namespace cacheproxy::cache {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A field the HEAD response carries must say the same as the stored one; an absent field
// says nothing (RFC 9111 §4.3.5 compares what is there).
bool same_if_present(const Fields& head, const Fields& stored, http::field name) {
  auto it = head.find(name);
  if (it == head.end()) return true;
  return trim(it->value()) == trim(stored[name]);
}

bool same_dates_if_present(const Fields& head, const Fields& stored) {
  auto it = head.find(http::field::last_modified);
  if (it == head.end()) return true;
  auto head_date = parse_http_date(it->value());
  auto stored_date = parse_http_date(stored[http::field::last_modified]);
  return head_date && stored_date && *head_date == *stored_date;
}

}  // namespace

std::optional<EntryMeta> update_from_head(const EntryMeta& stored, unsigned status,
                                          const Fields& head_response,
                                          TimePoint request_time, TimePoint response_time) {
  if (status != stored.status) return std::nullopt;
  if (!same_if_present(head_response, stored.headers, http::field::etag)) return std::nullopt;
  if (!same_dates_if_present(head_response, stored.headers)) return std::nullopt;
  auto length = head_response.find(http::field::content_length);
  if (length != head_response.end()) {
    std::string_view text = trim(length->value());
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value != stored.body_size) {
      return std::nullopt;
    }
  }
  return merge_not_modified(stored, head_response, request_time, response_time);
}

}  // namespace cacheproxy::cache
