#include "proxy/access_control.hpp"

#include <fmt/format.h>

#include <charconv>

namespace cacheproxy {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// IPv4 ranges and addresses are compared in their IPv4-mapped IPv6 form.
std::array<unsigned char, 16> as_v6_bytes(const ip::address& address) {
  if (address.is_v6()) return address.to_v6().to_bytes();
  return ip::make_address_v6(ip::v4_mapped, address.to_v4()).to_bytes();
}

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
  text = trim(text);
  AddressRange range;
  range.text_ = std::string(text);
  if (text == "all") {
    range.any_ = true;
    return range;
  }
  std::string_view address_text = text.substr(0, text.find('/'));
  boost::system::error_code ec;
  ip::address address = ip::make_address(std::string(address_text), ec);
  if (ec) return std::nullopt;
  unsigned bits = address.is_v4() ? 32 : 128;
  unsigned prefix = bits;
  if (address_text.size() < text.size()) {
    std::string_view prefix_text = text.substr(address_text.size() + 1);
    auto [end, perr] =
        std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), prefix);
    if (perr != std::errc() || end != prefix_text.data() + prefix_text.size() || prefix > bits)
      return std::nullopt;
  }
  range.v6_ = address.is_v6();
  range.bytes_ = as_v6_bytes(address);
  range.prefix_ = address.is_v4() ? prefix + 96 : prefix;
  // Host bits set in the range ("10.1.2.3/8") are ignored, as most tools do.
  return range;
}

bool AddressRange::contains(const ip::address& address) const {
  if (any_) return true;
  std::array<unsigned char, 16> bytes = as_v6_bytes(address);
  unsigned full = prefix_ / 8;
  for (unsigned i = 0; i < full; ++i)
    if (bytes[i] != bytes_[i]) return false;
  unsigned rest = prefix_ % 8;
  if (rest == 0) return true;
  auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (bytes[full] & mask) == (bytes_[full] & mask);
}

std::optional<std::string> AccessRules::parse(const std::vector<std::string>& lines,
                                              AccessRules* rules) {
  std::vector<AccessRule> parsed;
  for (const std::string& line : lines) {
    std::string_view rest = trim(line);
    std::string_view action = rest.substr(0, rest.find(' '));
    if (action != "allow" && action != "deny")
      return fmt::format("'{}': a rule starts with allow or deny", line);
    rest = trim(rest.substr(action.size()));
    if (rest.empty()) return fmt::format("'{}': no address range", line);
    // Several ranges on one line are several rules with the same action.
    while (!rest.empty()) {
      std::string_view token = rest.substr(0, rest.find_first_of(" ,"));
      rest = trim(rest.substr(token.size()));
      if (!rest.empty() && rest.front() == ',') rest = trim(rest.substr(1));
      if (token.empty()) continue;
      std::optional<AddressRange> range = AddressRange::parse(token);
      if (!range) return fmt::format("'{}': '{}' is not an address range", line, token);
      parsed.push_back(
          AccessRule{action == "allow", *range, fmt::format("{} {}", action, range->text())});
    }
  }
  *rules = AccessRules(std::move(parsed));
  return std::nullopt;
}

AccessDecision AccessRules::decide(const ip::address& address) const {
  for (const AccessRule& rule : rules_) {
    if (rule.range.contains(address)) return {rule.allow, rule.text};
  }
  return {false, "default deny"};
}

std::vector<std::string> default_client_rules() {
  return {"allow 127.0.0.0/8 ::1", "allow 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16",
          "allow fc00::/7 fe80::/10", "deny all"};
}

std::vector<std::string> default_destination_rules() {
  return {"deny 127.0.0.0/8 ::1 0.0.0.0/8", "deny 169.254.0.0/16 fe80::/10", "allow all"};
}

std::vector<std::string> default_admin_rules() { return {"allow 127.0.0.0/8 ::1", "deny all"}; }

namespace {
AccessRules parse_builtin(const std::vector<std::string>& lines) {
  AccessRules rules;
  // Built-in rules are constants: a failure here is a programming error caught by the tests.
  if (AccessRules::parse(lines, &rules)) return AccessRules();
  return rules;
}
}  // namespace

AccessRules default_client_access() { return parse_builtin(default_client_rules()); }
AccessRules default_destination_access() { return parse_builtin(default_destination_rules()); }
AccessRules default_admin_access() { return parse_builtin(default_admin_rules()); }

}  // namespace cacheproxy
