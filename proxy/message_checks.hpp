// Pure checks on message headers that protect the proxy and the origins behind it: framing
// that could be read two ways (request smuggling, RFC 9112 §6.3 and §11.2), forwarding loops
// (RFC 9110 §7.6.3) and Max-Forwards (RFC 9110 §7.6.2).
#pragma once

#include <boost/beast/http/fields.hpp>
#include <optional>
#include <string_view>

#include "cache/header_fields.hpp"

namespace cacheproxy {

struct FramingCheck {
  bool ok = true;
  std::string_view reason;  // why the message is refused
};

// A message is refused when its length could be read two ways: Content-Length together with
// Transfer-Encoding, Content-Length values that differ or are malformed, or a
// Transfer-Encoding whose final coding is not exactly "chunked". The same rules apply to
// requests (400) and to origin responses (502, never stored).
FramingCheck check_framing(const Fields& fields);

// True if a Via entry was added by this proxy (received-by equals visible_hostname): the
// request has been here before, and forwarding it again would loop.
bool via_names_self(const Fields& fields, std::string_view visible_hostname);

// The Max-Forwards value, if present and valid.
std::optional<unsigned> max_forwards(const Fields& fields);

}  // namespace cacheproxy
