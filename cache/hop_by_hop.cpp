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
constexpr std::array<std::string_view, 9> hop_by_hop_fields{
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
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
  for (std::string_view name : hop_by_hop_fields) fields.erase(name);
}

}  // namespace cacheproxy::cache
