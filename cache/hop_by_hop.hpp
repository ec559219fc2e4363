// Hop-by-hop header fields (RFC 9110 §7.6.1): they describe one connection and are never
// forwarded or stored.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/container/small_vector.hpp>
#include <string_view>

#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

// Removes the fixed hop-by-hop fields (Connection, Keep-Alive, Proxy-Connection,
// Proxy-Authorization, Proxy-Authenticate, TE, Trailer, Transfer-Encoding, Upgrade) and every
// field the Connection field names.
void remove_hop_by_hop(Fields& fields);

// The field names a message's Connection lines list (connection options, RFC 9110 §7.6.1),
// read once. Views into the fields' Connection lines, which must outlive this. Most messages
// carry only "keep-alive" or "close".
class ConnectionOptions {
 public:
  explicit ConnectionOptions(const Fields& fields);
  // Whether `field` is one of them, compared without regard to case.
  bool names(std::string_view field) const;

 private:
  boost::container::small_vector<std::string_view, 4> names_;
};

// Whether name is one of those fixed hop-by-hop fields (not the ones a Connection field names).
bool is_fixed_hop_by_hop(boost::beast::http::field name);

}  // namespace cacheproxy::cache
