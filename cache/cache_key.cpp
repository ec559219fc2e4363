#include "cache/cache_key.hpp"

#include <algorithm>
#include <array>
#include <boost/url.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "cache/direct_mapped_memo.hpp"

namespace cacheproxy::cache {

namespace {

namespace urls = boost::urls;

struct SchemeDefault {
  urls::scheme scheme;
  std::string_view name;
  std::uint16_t port;
};

// RFC 9110 §4.2.1 and §4.2.2: the only schemes we cache, with their default ports.
constexpr std::array<SchemeDefault, 2> schemes{{
    {urls::scheme::http, "http", 80},
    {urls::scheme::https, "https", 443},
}};

bool is_unreserved(char c) {
  // RFC 3986 §2.3
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// RFC 3986 §6.2.2.1 and §6.2.2.2: percent-encoded unreserved characters are decoded and the
// hex digits of the remaining triplets upper-cased. Reserved characters stay encoded: "%2F"
// is not "/". (Boost.URL 1.81's normalize() decodes those too, which is why we do not use it.)
// The input comes from Boost.URL's parser, so every '%' starts a valid triplet.
std::string normalize_percent_encoding(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size() && hex_value(encoded[i + 1]) >= 0 &&
        hex_value(encoded[i + 2]) >= 0) {
      const char decoded =
          static_cast<char>(hex_value(encoded[i + 1]) * 16 + hex_value(encoded[i + 2]));
      if (is_unreserved(decoded)) {
        out.push_back(decoded);
      } else {
        out += {'%', to_upper(encoded[i + 1]), to_upper(encoded[i + 2])};
      }
      i += 2;
    } else {
      out.push_back(encoded[i]);
    }
  }
  return out;
}

// RFC 3986 §3.2.2: the host is case-insensitive; percent triplets keep upper-case hex.
std::string normalize_host(std::string_view encoded_host) {
  std::string host = normalize_percent_encoding(encoded_host);
  for (std::size_t i = 0; i < host.size(); ++i) {
    if (host[i] == '%') {
      i += 2;
    } else {
      host[i] = to_lower(host[i]);
    }
  }
  return host;
}

// RFC 3986 §5.2.4 remove_dot_segments, on an absolute path.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);  // A
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);  // A
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);  // B
    } else if (in == "/.") {
      in = "/";  // B
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);  // C
      const auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};  // D
    } else {
      const auto next = in.find('/', 1);  // E: move the first segment to the output
      const auto segment = in.substr(0, next);
      out += segment;
      in.remove_prefix(segment.size());
    }
  }
  return out;
}

// The port to put in the key: empty for the scheme's default (or an empty port, RFC 3986
// §6.2.3), nullopt for a port that is not a number in 1..65535.
std::optional<std::string> normalize_port(std::string_view port, std::uint16_t default_port) {
  if (port.empty()) return std::string();
  std::uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return std::nullopt;
  }
  if (value == 0) return std::nullopt;
  if (value == default_port) return std::string();
  return std::to_string(value);  // drops leading zeros
}

// RFC 3986 §3.3: after an authority the path is empty or begins with "/". Boost.URL 1.81
// parses "http://x.org:8o/" as port "8" and path "o/"; such a URL is rejected here.
bool path_is_abempty(const urls::url_view& u) {
  const std::string_view path(u.encoded_path());
  return path.empty() || path.front() == '/';
}

}  // namespace

namespace {

bool is_sub_delim(char c) {
  // RFC 3986 §2.2
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}

}  // namespace

bool is_normal_url(std::string_view url) {
  std::uint32_t default_port = 0;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
    default_port = 80;
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    default_port = 443;
  } else {
    return false;
  }
  std::size_t i = 0;
  while (i < url.size() && ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= '0' && url[i] <= '9') ||
                            url[i] == '-' || url[i] == '.')) {
    ++i;
  }
  if (i == 0) return false;
  if (i < url.size() && url[i] == ':') {
    const std::size_t start = ++i;
    std::uint32_t port = 0;
    while (i < url.size() && i - start < 5 && url[i] >= '0' && url[i] <= '9')
      port = port * 10 + static_cast<std::uint32_t>(url[i++] - '0');
    if (i == start || url[start] == '0' || port > 65535 || port == default_port) return false;
  }
  if (i == url.size() || url[i] != '/') return false;  // an empty path becomes "/"
  bool in_query = false;
  for (; i < url.size(); ++i) {
    const char c = url[i];
    if (c == '?') {
      in_query = true;
    } else if (c == '/') {
      // A segment "." or ".." (or any beginning "..", to keep the test simple).
      if (!in_query && i + 1 < url.size() && url[i + 1] == '.') {
        const char after = i + 2 < url.size() ? url[i + 2] : '/';
        if (after == '/' || after == '?' || after == '.') return false;
      }
    } else if (!is_unreserved(c) && !is_sub_delim(c) && c != ':' && c != '@') {
      return false;
    }
  }
  return true;
}

namespace {

// Hot URLs are requested again and again: each thread remembers the keys of the last URLs it
// normalized, in a small direct-mapped table, so a repeat costs a hash and a compare instead
// of a parse. Only short URLs are kept, which bounds the table's memory per thread
// (kMemoSlots * kMemoMaxUrl * 2 bytes at most).
constexpr std::size_t kMemoSlots = 256;
constexpr std::size_t kMemoMaxUrl = 256;

}  // namespace

std::optional<std::string> normalize_cache_key(std::string_view url) {
  // Checking is cheaper than parsing, and than the memo's hash: a URL in normal form (a miss
  // too, which the memo cannot help) is its own key.
  if (is_normal_url(url)) return std::string(url);
  if (url.size() > kMemoMaxUrl) return normalize_parsed(url);
  thread_local DirectMappedMemo<std::optional<std::string>, kMemoSlots> memo;
  return memo.get(url, [url] { return normalize_parsed(url); });
}

std::optional<std::string> normalize_parsed(std::string_view url) {
  const auto parsed = urls::parse_uri(urls::string_view(url.data(), url.size()));
  if (!parsed) return std::nullopt;
  const urls::url_view& u = *parsed;

  const auto scheme = std::find_if(schemes.begin(), schemes.end(), [&](const SchemeDefault& s) {
    return s.scheme == u.scheme_id();
  });
  // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
  if (scheme == schemes.end() || !u.has_authority() || u.encoded_host().empty() ||
      !path_is_abempty(u)) {
    return std::nullopt;
  }
  const auto port =
      normalize_port(u.has_port() ? std::string_view(u.port()) : std::string_view(), scheme->port);
  if (!port) return std::nullopt;

  // Userinfo is dropped (RFC 9110 §4.2.4 deprecates it): it is never sent to the origin in
  // the request target, so it does not select a different response, and keys are stored.
  std::string key(scheme->name);
  key += "://";
  key += normalize_host(std::string_view(u.encoded_host()));
  if (!port->empty()) {
    key += ':';
    key += *port;
  }
  // RFC 9110 §4.2.3: an empty path is equivalent to "/".
  const std::string path = remove_dot_segments(normalize_percent_encoding(u.encoded_path()));
  key += path.empty() ? "/" : path;
  if (u.has_query()) {
    key += '?';
    key += normalize_percent_encoding(u.encoded_query());
  }
  // The fragment is never part of the request target (RFC 9110 §4.2.5): dropped.
  return key;
}

}  // namespace cacheproxy::cache
