// Freshening a stored response with a HEAD response (RFC 9111 §4.3.5). Pure.
#pragma once

#include <optional>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

// When a 200 response to HEAD describes the stored GET response — every validator and
// Content-Length it carries equals the stored one — returns the stored entry with its header
// fields updated as for a 304 (RFC 9111 §3.2: framing fields such as Content-Length are never
// replaced) and the new times. nullopt when it differs: the stored response is then out of
// date and must not be served any more.
std::optional<EntryMeta> update_from_head(const EntryMeta& stored, unsigned status,
                                          const Fields& head_response,
                                          TimePoint request_time, TimePoint response_time);

}  // namespace cacheproxy::cache
