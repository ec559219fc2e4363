// Cache keys: the normalized absolute URL of a request (RFC 9111 §2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cacheproxy::cache {

// Normalizes an absolute http(s) URL into the primary cache key: scheme and host
// lower-cased, default port dropped, percent-encoding normalized (unreserved characters
// decoded, hex digits upper-cased), dot segments removed, empty path made "/", fragment
// dropped. Returns nullopt if url is not an absolute http or https URL with a host.
std::optional<std::string> normalize_cache_key(std::string_view url);
// The same, always through Boost.URL's parser: normalize_cache_key takes a URL already in
// normal form as it is, without parsing it (and tests check the two agree).
std::optional<std::string> normalize_parsed(std::string_view url);

// Whether url is already what normalize_parsed() makes of it, judged by one pass over its
// characters: "http://" or "https://"; a host of lower-case letters, digits, dots and
// hyphens; a port only if it is not the scheme's default and has no leading zero; a path that
// begins with "/" and has no dot segment; path and query made of unreserved characters,
// sub-delims, ':', '@', '/' and '?' only (no percent-encoding, no fragment). A URL a browser
// or a crawler fetches nearly always is; anything else goes to the parser.
bool is_normal_url(std::string_view url);

}  // namespace cacheproxy::cache
