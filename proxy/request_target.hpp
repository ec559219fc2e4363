// Pure classification of a request's target (RFC 9112 §3.2): where does it go?
#pragma once

#include <fmt/format.h>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cache/header_fields.hpp"
#include "proxy/config.hpp"

namespace cacheproxy {

enum class TargetKind {
  forward,         // absolute-form http:// URL: fetch from the origin (through the cache)
  connect,         // authority-form for CONNECT: a tunnel
  local,           // addressed to the proxy itself: answered by the admin handler
  https_absolute,  // absolute-form https:// URL: browsers never send it to a plain proxy
  invalid,         // anything else: 400
};

struct RequestTarget {
  TargetKind kind = TargetKind::invalid;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
  std::string path;         // origin-form: path and query, never empty ("/")
  std::string url;          // the absolute URL as received (for logs)
  std::string_view reason;  // why a target is invalid
  // A forwarded URL already in the cache's normal form (cache::is_normal_url): its own cache
  // key, which then needs no second look.
  bool normal_url = false;

  // Empties every part but keeps the strings' storage, so a connection's next request is
  // classified without allocating.
  void clear();
};

// Classifies a request target. `self` lists the proxy's own listen addresses and its visible
// hostname so a request naming the proxy is answered locally instead of forwarded to itself.
// classify_target remembers recent targets and splits a URL already in normal form by hand;
// `parser_only` always parses with Boost.URL (tests check that both give the same).
enum class TargetParse { shortcuts, parser_only };
RequestTarget classify_target(boost::beast::http::verb method, std::string_view target,
                              const std::vector<ListenAddress>& self,
                              std::string_view visible_hostname,
                              TargetParse how = TargetParse::shortcuts);
// The same, into `into` (cleared first), whose strings' storage is reused.
void classify_target(RequestTarget& into, boost::beast::http::verb method,
                     std::string_view target, const std::vector<ListenAddress>& self,
                     std::string_view visible_hostname, TargetParse how = TargetParse::shortcuts);

// Via field value for this proxy (RFC 9110 §7.6.3), e.g. "1.1 cacheproxy (cacheproxy/0.1.0)".
std::string via_value(unsigned http_version, std::string_view visible_hostname);
// The same value appended to `out`, for callers that build a header without allocating.
void append_via_value(fmt::memory_buffer& out, unsigned http_version,
                      std::string_view visible_hostname);

// Appends this proxy's entry to the message's Via field.
void append_via(Fields& fields, unsigned http_version,
                std::string_view visible_hostname);

}  // namespace cacheproxy
