#include "cache/variants.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

namespace {

// Pseudo field of a marker holding its nonce. Markers are never served, so the name never
// reaches a client.
constexpr std::string_view kNonceField = "Cacheproxy-Variants";

// Separates the URL key from the variant part: never present in a normalized URL (control
// characters are percent-encoded).
constexpr char kVariantSeparator = '\x1f';

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// FNV-1a, 64 bits: stable across builds and runs (std::hash is neither promised).
std::uint64_t fnv1a(std::string_view data) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

bool is_vary_marker(const EntryMeta& meta) { return meta.status == kVaryMarkerStatus; }

std::vector<std::string> vary_field_names(const Fields& response_headers) {
  std::vector<std::string> names;
  for (const auto& line : field_lines(response_headers, "vary")) {
    for (std::string_view element : split_list(line.value())) names.push_back(lowered(element));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string secondary_key(const std::vector<std::string>& names,
                          const Fields& request_headers) {
  std::string key;
  for (const std::string& name : names) {
    std::optional<std::string> value = combined_field_value(request_headers, name);
    // '\n' cannot occur in a field value; '\0' marks an absent field (RFC 9111 §4.1: absent
    // matches only absent).
    key += name;
    key += value ? fmt::format("={}\n", *value) : std::string("\0\n", 2);
  }
  return key;
}

EntryMeta make_vary_marker(const Fields& response_headers, std::uint64_t nonce,
                           TimePoint now) {
  EntryMeta marker;
  marker.status = kVaryMarkerStatus;
  for (const auto& line : field_lines(response_headers, "vary")) {
    marker.headers.insert(http::field::vary, line.value());
  }
  marker.headers.set(kNonceField, fmt::format("{:016x}", nonce));
  marker.request_time = now;
  marker.response_time = now;
  return marker;
}

bool marker_fits(const EntryMeta& marker, const Fields& response_headers) {
  return vary_field_names(marker.headers) == vary_field_names(response_headers);
}

std::string variants_prefix(std::string_view url_key) {
  std::string prefix(url_key);
  prefix.push_back(kVariantSeparator);
  return prefix;
}

std::string variant_key(std::string_view url_key, const EntryMeta& marker,
                        const Fields& request_headers) {
  const std::string secondary = secondary_key(vary_field_names(marker.headers), request_headers);
  return fmt::format("{}{}{}/{:016x}", url_key, kVariantSeparator, marker.headers[kNonceField],
                     fnv1a(secondary));
}

}  // namespace cacheproxy::cache
