// Ordered allow/deny rules over IP address ranges (CIDR, IPv4 and IPv6), as Squid's
// http_access: the first rule that matches decides, and no match means deny. Pure.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cacheproxy {

// An address range, e.g. 192.168.0.0/16 or fc00::/7. An IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) matches the IPv4 ranges it maps to.
class AddressRange {
 public:
  // "10.0.0.0/8", "::1", "all" (every address). nullopt if malformed.
  static std::optional<AddressRange> parse(std::string_view text);
  bool contains(const boost::asio::ip::address& address) const;
  const std::string& text() const { return text_; }

 private:
  bool any_ = false;
  bool v6_ = false;
  std::array<unsigned char, 16> bytes_{};
  unsigned prefix_ = 0;
  std::string text_;
};

struct AccessRule {
  bool allow = false;
  AddressRange range;
  std::string text;  // as written in the config, e.g. "allow 10.0.0.0/8"
};

struct AccessDecision {
  bool allowed = false;
  std::string rule;  // the rule that matched, or "default deny"
};

class AccessRules {
 public:
  AccessRules() = default;
  explicit AccessRules(std::vector<AccessRule> rules) : rules_(std::move(rules)) {}

  // Parses lines like "allow 10.0.0.0/8", "deny all". Returns an error message for the first
  // bad line, or nullopt and fills *rules.
  static std::optional<std::string> parse(const std::vector<std::string>& lines,
                                          AccessRules* rules);

  AccessDecision decide(const boost::asio::ip::address& address) const;
  bool empty() const { return rules_.empty(); }

 private:
  std::vector<AccessRule> rules_;
};

// Loopback and the private LAN ranges, then deny: cacheproxy serves the LAN, nobody else.
std::vector<std::string> default_client_rules();
// Destinations a LAN client may not reach through the proxy: the gateway's own loopback
// services and link-local (cloud metadata) addresses. Then allow.
std::vector<std::string> default_destination_rules();
// Who may see the proxy's own pages (live statistics, /stats, /metrics): the proxy host only.
std::vector<std::string> default_admin_rules();
// The same, parsed.
AccessRules default_client_access();
AccessRules default_destination_access();
AccessRules default_admin_access();

}  // namespace cacheproxy
