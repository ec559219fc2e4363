#include "proxy/request_target.hpp"

#include <fmt/format.h>

#include <boost/url/parse.hpp>
#include <charconv>
#include <optional>

#include "cache/cache_key.hpp"
#include "cache/direct_mapped_memo.hpp"
#include "cache/header_fields.hpp"
#include "proxy/version.hpp"
#include "proxy/wire_format.hpp"

namespace cacheproxy {

namespace http = boost::beast::http;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool names_self(std::string_view host, std::uint16_t port, const std::vector<ListenAddress>& self,
                std::string_view visible_hostname) {
  for (const ListenAddress& a : self) {
    if (a.port != port) continue;
    if (iequals(host, a.host) || iequals(host, visible_hostname)) return true;
    // A wildcard listener answers on every local address; loopback names are the common case.
    if ((a.host == "0.0.0.0" || a.host == "::") &&
        (host == "127.0.0.1" || host == "::1" || iequals(host, "localhost")))
      return true;
  }
  return false;
}

// The port number of a URL or authority, 1-65535. Boost.URL 1.81's port_number() silently
// wraps larger numbers ("77777" is 12241: found by tests/fuzz), so the digits are read here.
std::optional<std::uint16_t> port_in_range(std::string_view digits) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value == 0 || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

void set_invalid(RequestTarget& t, std::string_view reason) {
  t.kind = TargetKind::invalid;
  t.reason = reason;
}

void classify_connect(RequestTarget& t, std::string_view target) {
  // authority-form: host:port, port required (RFC 9110 §9.3.6).
  auto authority = boost::urls::parse_authority(target);
  if (!authority || !authority->has_port() || authority->has_userinfo())
    return set_invalid(t, "CONNECT needs host:port");
  std::optional<std::uint16_t> port = port_in_range(authority->port());
  // Boost.URL accepts an empty host (":8443"), which names nothing (found by tests/fuzz).
  if (!port || authority->host_address().empty()) return set_invalid(t, "CONNECT needs host:port");
  t.kind = TargetKind::connect;
  t.host.assign(authority->host_address());
  t.port = *port;
  t.url.assign(target);
}

// What an absolute-form target says, before the proxy asks whether it names itself: a pure
// function of the text.
struct AbsoluteTarget {
  TargetKind kind = TargetKind::invalid;  // forward, https_absolute or invalid
  std::string host;
  std::uint16_t port = 0;
  std::string path;
  std::string_view reason;  // why a target is invalid (a literal)
  bool normal_url = false;  // cache::is_normal_url(target)
};

AbsoluteTarget invalid_absolute(std::string_view reason) {
  AbsoluteTarget t;
  t.reason = reason;
  return t;
}

// A target split by split_normal_target: views into the target's text.
struct NormalSplit {
  std::string_view host;
  std::uint16_t port = 80;
  std::string_view path;
};

// An http URL already in normal form (cache::is_normal_url: a lower-case host, a port other
// than 80 if any, a path, no userinfo, percent-encoding or fragment) split by hand, into what
// Boost.URL's parse gives (tests compare the two); nullopt for any other target.
std::optional<NormalSplit> split_normal_target(std::string_view target) {
  if (!target.starts_with("http://") || !cache::is_normal_url(target)) return std::nullopt;
  const std::string_view rest = target.substr(7);
  const std::size_t path_at = rest.find('/');  // a normal URL has a path
  const std::string_view authority = rest.substr(0, path_at);
  const std::size_t colon = authority.find(':');
  NormalSplit split;
  split.host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::optional<std::uint16_t> port = port_in_range(authority.substr(colon + 1));
    if (!port) return std::nullopt;
    split.port = *port;
  }
  split.path = rest.substr(path_at);
  return split;
}

AbsoluteTarget parse_absolute_target(std::string_view target) {
  auto url = boost::urls::parse_absolute_uri(target);
  if (!url) return invalid_absolute("malformed absolute URL");
  AbsoluteTarget t;
  if (url->scheme_id() == boost::urls::scheme::https) {
    t.kind = TargetKind::https_absolute;
    return t;
  }
  if (url->scheme_id() != boost::urls::scheme::http) {
    return invalid_absolute("unsupported URL scheme");
  }
  if (!url->has_authority() || url->host_address().empty()) {
    return invalid_absolute("URL without host");
  }
  if (url->has_userinfo()) return invalid_absolute("URL with user information");
  std::uint16_t port = 80;
  // RFC 3986 §3.2.3: an empty port ("http://host:/") means the scheme's default.
  if (url->has_port() && !url->port().empty()) {
    std::optional<std::uint16_t> given = port_in_range(url->port());
    if (!given) return invalid_absolute("invalid port");
    port = *given;
  }
  std::string_view path = url->encoded_path();
  // RFC 3986 §3.3: after an authority the path is empty or starts with '/'. Boost.URL 1.81
  // accepts "http://[2001:db8::1]:8080+x" with the path "+x" (found by tests/fuzz), which
  // would go out as the malformed request line "GET +x HTTP/1.1".
  if (!path.empty() && path.front() != '/') return invalid_absolute("malformed absolute URL");
  t.kind = TargetKind::forward;
  t.host = std::string(url->host_address());
  t.port = port;
  t.path = path.empty() ? "/" : std::string(path);
  if (url->has_query()) {
    t.path += '?';
    t.path += std::string_view(url->encoded_query());
  }
  t.normal_url = cache::is_normal_url(target);
  return t;
}

// What the text says, copied into t's strings (which keep their storage from request to
// request on a connection).
void set_absolute(RequestTarget& t, const AbsoluteTarget& parsed) {
  if (parsed.kind == TargetKind::invalid) return set_invalid(t, parsed.reason);
  t.kind = parsed.kind;
  if (parsed.kind != TargetKind::forward) return;
  t.host.assign(parsed.host);
  t.port = parsed.port;
  t.path.assign(parsed.path);
  t.normal_url = parsed.normal_url;
}

// Hot URLs come again and again (every hit is a repeat): each thread remembers the last
// targets it parsed in a small direct-mapped table, so a repeat costs a hash and a compare
// instead of a parse. Only short targets are kept, which bounds the table's memory per thread.
constexpr std::size_t kMemoSlots = 256;
constexpr std::size_t kMemoMaxTarget = 256;

void classify_absolute(RequestTarget& t, std::string_view target, TargetParse how) {
  if (how == TargetParse::shortcuts) {
    // A miss's URL is new: checked and split by hand when that is possible, never parsed.
    if (std::optional<NormalSplit> split = split_normal_target(target)) {
      t.kind = TargetKind::forward;
      t.host.assign(split->host);
      t.port = split->port;
      t.path.assign(split->path);
      t.normal_url = true;
      return;
    }
    if (target.size() <= kMemoMaxTarget) {
      thread_local cache::DirectMappedMemo<AbsoluteTarget, kMemoSlots> memo;
      return set_absolute(t, memo.get(target, [target] { return parse_absolute_target(target); }));
    }
  }
  set_absolute(t, parse_absolute_target(target));
}

}  // namespace

void RequestTarget::clear() {
  kind = TargetKind::invalid;
  host.clear();
  port = 0;
  path.clear();
  url.clear();
  reason = {};
  normal_url = false;
}

RequestTarget classify_target(http::verb method, std::string_view target,
                              const std::vector<ListenAddress>& self,
                              std::string_view visible_hostname, TargetParse how) {
  RequestTarget t;
  classify_target(t, method, target, self, visible_hostname, how);
  return t;
}

void classify_target(RequestTarget& t, http::verb method, std::string_view target,
                     const std::vector<ListenAddress>& self, std::string_view visible_hostname,
                     TargetParse how) {
  t.clear();
  if (method == http::verb::connect) return classify_connect(t, target);
  if (target.empty()) return set_invalid(t, "empty request target");
  if (target.front() == '/' || target == "*") {
    // origin-form sent to a proxy: the client is talking to the proxy itself.
    t.kind = TargetKind::local;
    t.path.assign(target);
    t.url.assign(target);
    return;
  }
  classify_absolute(t, target, how);
  if (t.kind == TargetKind::invalid) return;
  t.url.assign(target);
  if (t.kind == TargetKind::forward && names_self(t.host, t.port, self, visible_hostname))
    t.kind = TargetKind::local;
}

void append_via_value(fmt::memory_buffer& out, unsigned http_version,
                      std::string_view visible_hostname) {
  // On every response: appends, not a format string.
  using wire::append;
  using wire::append_number;
  append_number(out, http_version / 10);
  out.push_back('.');
  append_number(out, http_version % 10);
  out.push_back(' ');
  append(out, visible_hostname);
  append(out, " (cacheproxy/");
  append(out, kVersion);
  out.push_back(')');
}

std::string via_value(unsigned http_version, std::string_view visible_hostname) {
  fmt::memory_buffer out;
  append_via_value(out, http_version, visible_hostname);
  return fmt::to_string(out);
}

void append_via(Fields& fields, unsigned http_version, std::string_view visible_hostname) {
  // A second Via field line is equivalent to appending to the list (RFC 9110 §5.3).
  fields.insert(http::field::via, via_value(http_version, visible_hostname));
}

}  // namespace cacheproxy
