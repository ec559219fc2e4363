// Which stored responses a successful unsafe request makes invalid (RFC 9111 §4.4). Pure.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

// The cache keys to invalidate after an unsafe request to `target_url` got a non-error
// response: the target URI's key, and the keys of the Location and Content-Location URIs
// (resolved against the target) when they share its origin — a cache must not let a
// request invalidate another origin's entries.
std::vector<std::string> invalidated_keys(std::string_view target_url,
                                          const Fields& response);

}  // namespace cacheproxy::cache
