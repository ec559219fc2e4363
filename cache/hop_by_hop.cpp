#include "cache/hop_by_hop.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "cache/cache_control.hpp"

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

void remove_hop_by_hop(boost::beast::http::fields& fields) {
  // RFC 9110 §7.6.1: every connection-option named by any Connection line is hop-by-hop.
  // Copy the names first: erasing invalidates views into the field storage.
  std::vector<std::string> named;
  for (const auto& line : field_lines(fields, "connection")) {
    for (std::string_view token : split_list(line.value())) named.emplace_back(token);
  }
  for (const std::string& name : named) fields.erase(name);
  for (http::field name : hop_by_hop_fields) fields.erase(name);
}

bool is_fixed_hop_by_hop(http::field name) {
  for (http::field f : hop_by_hop_fields)
    if (f == name) return true;
  return false;
}

}  // namespace cacheproxy::cache
