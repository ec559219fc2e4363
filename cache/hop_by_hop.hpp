// Hop-by-hop header fields (RFC 9110 §7.6.1): they describe one connection and are never
// forwarded or stored.
#pragma once

#include <boost/beast/http/fields.hpp>

namespace cacheproxy::cache {

// Removes the fixed hop-by-hop fields (Connection, Keep-Alive, Proxy-Connection,
// Proxy-Authorization, Proxy-Authenticate, TE, Trailer, Transfer-Encoding, Upgrade) and every
// field the Connection field names.
void remove_hop_by_hop(boost::beast::http::fields& fields);

// Whether name is one of those fixed hop-by-hop fields (not the ones a Connection field names).
bool is_fixed_hop_by_hop(boost::beast::http::field name);

}  // namespace cacheproxy::cache
