#include "cache/hop_by_hop.hpp"

#include <array>
#include <boost/beast/core/string.hpp>
#include <iterator>
#include <string_view>

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

// Whether a Connection line's value names `name` among its comma-separated options (tokens:
// no quoted strings), compared without regard to case.
bool connection_names(std::string_view value, std::string_view name) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view option = value.substr(0, comma);
    while (!option.empty() && (option.front() == ' ' || option.front() == '\t'))
      option.remove_prefix(1);
    while (!option.empty() && (option.back() == ' ' || option.back() == '\t'))
      option.remove_suffix(1);
    if (boost::beast::iequals(option, name)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

void remove_hop_by_hop(boost::beast::http::fields& fields) {
  // One pass over the fields, not a lookup per hop-by-hop name: this runs on every response
  // stored. The Connection lines stay until the end, since their values name the fields that
  // go with them (RFC 9110 §7.6.1). Beast keeps lines of one name together, so they are the
  // run of lines from the first; only that first line is held, as erasing the line after the
  // run would leave an end iterator dangling.
  const auto first_connection = fields.find(http::field::connection);
  for (auto it = fields.begin(); it != fields.end();) {
    bool hop = false;
    if (it->name() != http::field::connection) {
      hop = is_fixed_hop_by_hop(it->name());
      for (auto line = first_connection;
           !hop && line != fields.end() && line->name() == http::field::connection; ++line) {
        hop = connection_names(line->value(), it->name_string());
      }
    }
    it = hop ? fields.erase(it) : std::next(it);
  }
  fields.erase(http::field::connection);
}

bool is_fixed_hop_by_hop(http::field name) {
  for (http::field f : hop_by_hop_fields)
    if (f == name) return true;
  return false;
}

}  // namespace cacheproxy::cache
