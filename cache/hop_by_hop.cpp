#include "cache/hop_by_hop.hpp"

#include <array>
#include <boost/beast/core/string.hpp>
#include <iterator>
#include <string_view>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

namespace {

// RFC 9110 §7.6.1 (Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding, Upgrade),
// RFC 9110 §6.6.2 (Trailer describes the framing of one message) and RFC 9110 §11.7
// (Proxy-Authenticate / Proxy-Authorization are consumed by the next proxy on the chain).
namespace http = boost::beast::http;
constexpr std::array<http::field, 9> hop_by_hop_fields{
    http::field::connection,
    http::field::keep_alive,
    http::field::proxy_connection,
    http::field::proxy_authorization,
    http::field::proxy_authenticate,
    http::field::te,
    http::field::trailer,
    http::field::transfer_encoding,
    http::field::upgrade,
};

}  // namespace

void remove_hop_by_hop(Fields& fields) {
  // One pass over the fields, not a lookup per hop-by-hop name: this runs on every response
  // stored. The Connection lines stay until the end, since the options' views point into them.
  const ConnectionOptions options(fields);
  for (auto it = fields.begin(); it != fields.end();) {
    const bool hop = it->name() != http::field::connection &&
                     (is_fixed_hop_by_hop(it->name()) || options.names(it->name_string()));
    it = hop ? fields.erase(it) : std::next(it);
  }
  fields.erase(http::field::connection);
}

ConnectionOptions::ConnectionOptions(const Fields& fields) {
  for (auto [line, end] = fields.equal_range(http::field::connection); line != end; ++line) {
    for_each_list_element(line->value(), [&](std::string_view name) { names_.push_back(name); });
  }
}

bool ConnectionOptions::names(std::string_view field) const {
  for (std::string_view name : names_)
    if (boost::beast::iequals(name, field)) return true;
  return false;
}

bool is_fixed_hop_by_hop(http::field name) {
  for (http::field f : hop_by_hop_fields)
    if (f == name) return true;
  return false;
}

}  // namespace cacheproxy::cache
