// Conditional requests against a stored response (RFC 9110 §13, RFC 9111 §4.3.2 and §4.3.4).
// Pure.
#pragma once

#include <string_view>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"
#include "cache/policy.hpp"

namespace cacheproxy::cache {

// RFC 9110 §8.8.3.2: entity-tag comparison. Strong: both strong and the same opaque tag.
// Weak: the same opaque tag, weak or not. Malformed tags (no quotes) never match.
bool strong_etag_match(std::string_view a, std::string_view b);
bool weak_etag_match(std::string_view a, std::string_view b);

// RFC 9111 §4.3.2 and RFC 9110 §13.2.2: true when the client's own If-None-Match (or, without
// it, If-Modified-Since) shows it already has the stored representation, so the cache answers
// 304 instead of the stored 2xx. Only for GET and HEAD and a stored 2xx; a request that also
// carries If-Match, If-Unmodified-Since or If-Range is left to the full response.
bool client_has_current(const RequestView& request, const EntryMeta& entry);

// RFC 9110 §15.4.5: the stored fields a 304 made from the entry carries (Cache-Control,
// Content-Location, Date, ETag, Expires, Vary, and Last-Modified when there is no ETag).
Fields not_modified_fields(const EntryMeta& entry);

// RFC 9111 §4.3.4: does a 304 select this stored response for update? A 304 with a strong
// ETag selects only a stored response with the same strong ETag, a weak one only a response
// whose tag matches weakly; a 304 without ETag selects the response that was revalidated.
bool not_modified_selects(const EntryMeta& stored, const Fields& not_modified);

}  // namespace cacheproxy::cache
