#include "cache/invalidation.hpp"

#include <algorithm>
#include <boost/url.hpp>

#include "cache/cache_key.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

namespace http = boost::beast::http;
namespace urls = boost::urls;

namespace {

// "scheme://authority" of a normalized key: everything before the path.
std::string_view origin_of(std::string_view key) {
  std::size_t authority = key.find("://");
  if (authority == std::string_view::npos) return key;
  return key.substr(0, key.find('/', authority + 3));
}

}  // namespace

std::vector<std::string> invalidated_keys(std::string_view target_url,
                                          const Fields& response) {
  std::vector<std::string> keys;
  std::optional<std::string> target_key = normalize_cache_key(target_url);
  if (!target_key) return keys;
  keys.push_back(*target_key);
  auto base = urls::parse_uri(target_url);
  if (!base) return keys;
  for (http::field name : {http::field::location, http::field::content_location}) {
    auto it = response.find(name);
    if (it == response.end()) continue;
    auto reference = urls::parse_uri_reference(it->value());
    if (!reference) continue;
    urls::url resolved;
    if (!urls::resolve(*base, *reference, resolved)) continue;
    std::optional<std::string> key = normalize_cache_key(resolved.buffer());
    if (!key || origin_of(*key) != origin_of(*target_key)) continue;
    if (std::find(keys.begin(), keys.end(), *key) == keys.end()) keys.push_back(*key);
  }
  return keys;
}

}  // namespace cacheproxy::cache
