#include "proxy/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/program_options.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

#include "proxy/proxy_auth.hpp"
#include "cache/eviction_policy.hpp"
#include "proxy/version.hpp"

namespace cacheproxy {

namespace po = boost::program_options;

namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t multiplier;
};

// Longest suffixes first so "KiB" is not read as "B".
constexpr std::array size_units{
    Unit{"kib", 1ull << 10},
    Unit{"mib", 1ull << 20},
    Unit{"gib", 1ull << 30},
    Unit{"tib", 1ull << 40},
    Unit{"kb", 1000},
    Unit{"mb", 1000'000},
    Unit{"gb", 1000'000'000},
    Unit{"k", 1ull << 10},
    Unit{"m", 1ull << 20},
    Unit{"g", 1ull << 30},
    Unit{"b", 1},
    Unit{"", 1},
};

constexpr std::array duration_units{
    Unit{"ms", 1},     Unit{"min", 60'000},  Unit{"s", 1000},
    Unit{"m", 60'000}, Unit{"h", 3'600'000}, Unit{"", 1000},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <std::size_t N>
std::optional<std::uint64_t> parse_with_units(const std::string& text,
                                              const std::array<Unit, N>& units) {
  std::string s = lower(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), number);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  std::string_view rest(end, s.data() + s.size() - end);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  for (const Unit& unit : units) {
    if (rest == unit.suffix) {
      if (number > UINT64_MAX / unit.multiplier) return std::nullopt;
      return number * unit.multiplier;
    }
  }
  return std::nullopt;
}

// Options whose values need converting are read as strings, then checked here, so a bad
// value names the option it came from.
struct RawOptions {
  std::vector<std::string> listen;
  std::string cache_size, memory_cache_size, maximum_object_size, heuristic_max_lifetime;
  std::string stats_interval, client_header_timeout, client_idle_timeout, client_write_timeout;
  std::string origin_connect_timeout, origin_read_timeout, origin_idle_timeout, shutdown_timeout;
  std::string positive_dns_ttl, negative_dns_ttl;
  std::string collapsed_forwarding_timeout;
  std::string max_request_header_size, max_response_header_size;
  std::string tunnel_idle_timeout;
  std::vector<std::string> connect_ports;
  std::vector<std::string> client_access, destination_access;
  std::string max_request_line_size, max_request_body_size;
  std::vector<std::string> pac_direct_networks;
  std::string auth_cache_ttl;
  std::vector<std::string> admin_access;
  std::vector<std::string> pac_proxy_hosts;
  std::vector<std::string> pac_direct_hosts;
  std::string background_revalidation_timeout;
  std::string range_offset_limit;
  std::vector<std::string> refresh_pattern;
};

po::options_description describe_options(Config& c, RawOptions& raw) {
  po::options_description d("Settings (config file keys; flags override the file)");
  // clang-format off
  d.add_options()
      ("listen", po::value(&raw.listen),
       "address:port to accept clients on; repeat for several (default 127.0.0.1:3128)")
      ("visible_hostname", po::value(&c.visible_hostname), "name of this proxy in Via headers")
      ("cache_dir", po::value(&c.cache_dir), "folder of the LevelDB object cache")
      ("cache_size", po::value(&raw.cache_size), "disk cache byte budget (e.g. 1GiB)")
      ("memory_cache_size", po::value(&raw.memory_cache_size), "hot in-memory tier (e.g. 256MiB)")
      ("maximum_object_size", po::value(&raw.maximum_object_size),
       "larger responses stream through uncached (e.g. 64MiB)")
      ("heuristic_percent", po::value(&c.heuristic_percent),
       "heuristic freshness as percent of (Date - Last-Modified)")
      ("heuristic_max_lifetime", po::value(&raw.heuristic_max_lifetime),
       "cap on heuristic freshness (e.g. 1d, 24h)")
      ("access_log", po::value(&c.access_log), "Squid-format access log path, - for stdout, none")
      ("stats_interval", po::value(&raw.stats_interval), "period of the summary log line")
      ("threads", po::value(&c.threads), "network threads, 0 for one per core")
      ("store_threads", po::value(&c.store_threads), "threads running LevelDB calls")
      ("storage_nice", po::value(&c.storage_nice),
       "nice value of the storage threads above the network threads, 0-19")
      ("max_request_header_size", po::value(&raw.max_request_header_size),
       "request line plus header fields")
      ("max_response_header_size", po::value(&raw.max_response_header_size),
       "origin response header limit")
      ("client_header_timeout", po::value(&raw.client_header_timeout),
       "time for a client to send a request header")
      ("client_idle_timeout", po::value(&raw.client_idle_timeout),
       "idle keep-alive time between client requests")
      ("client_write_timeout", po::value(&raw.client_write_timeout),
       "time a write to a client may block")
      ("origin_connect_timeout", po::value(&raw.origin_connect_timeout),
       "resolving and connecting to an origin")
      ("origin_read_timeout", po::value(&raw.origin_read_timeout),
       "time without progress reading from an origin")
      ("origin_idle_timeout", po::value(&raw.origin_idle_timeout),
       "how long an idle origin connection is kept")
      ("origin_idle_per_host", po::value(&c.origin_idle_per_host),
       "idle keep-alive connections kept per origin host:port")
      ("positive_dns_ttl", po::value(&raw.positive_dns_ttl),
       "how long a resolved origin address is reused (0: resolve every connection)")
      ("negative_dns_ttl", po::value(&raw.negative_dns_ttl),
       "how long a name that does not exist is remembered (0: never)")
      ("connect_ports", po::value(&raw.connect_ports),
       "ports CONNECT may reach, repeatable or comma-separated (default 443)")
      ("tunnel_idle_timeout", po::value(&raw.tunnel_idle_timeout),
       "a CONNECT tunnel silent both ways this long is closed")
      ("client_access", po::value(&raw.client_access),
       "a rule 'allow|deny RANGE...' on client addresses; repeat, first match wins, then deny "
       "(default: loopback and private LAN ranges)")
      ("destination_access", po::value(&raw.destination_access),
       "a rule 'allow|deny RANGE...' on origin addresses connected to (default: deny loopback "
       "and link-local, allow the rest)")
      ("destination_access_for_loopback_clients",
       po::value(&c.destination_access_for_loopback_clients),
       "apply destination_access to clients on the proxy host too")
      ("max_request_line_size", po::value(&raw.max_request_line_size),
       "longest request line (414 beyond)")
      ("max_request_body_size", po::value(&raw.max_request_body_size),
       "largest request body (413 beyond), 0 for no limit")
      ("max_connections", po::value(&c.max_connections),
       "concurrent client connections (503 beyond)")
      ("max_connections_per_client", po::value(&c.max_connections_per_client),
       "concurrent connections from one client address (503 beyond)")
      ("collapsed_forwarding_timeout", po::value(&raw.collapsed_forwarding_timeout),
       "how long a miss waits for a concurrent fetch of the same URL")
      ("shutdown_timeout", po::value(&raw.shutdown_timeout),
       "time in-flight requests get to finish at shutdown")
      ("pac_proxy_address", po::value(&c.pac_proxy_address),
       "host:port the PAC file (/proxy.pac, /wpad.dat) names (default: the first non-loopback "
       "listen address)")
      ("pac_direct_networks", po::value(&raw.pac_direct_networks),
       "IPv4 networks the PAC file sends direct, repeatable or comma-separated, none for none "
       "(default 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 127.0.0.0/8)")
      ("pac_fallback_direct", po::value(&c.pac_fallback_direct),
       "the PAC file falls back to DIRECT when the proxy is down (default true)")
      ("auth_htpasswd", po::value(&c.auth_htpasswd),
       "htpasswd file (bcrypt or SHA-512-crypt hashes): clients must send Proxy-Authorization "
       "Basic credentials (default: none, no authentication)")
      ("auth_realm", po::value(&c.auth_realm), "realm named in the 407 challenge")
      ("auth_cache_ttl", po::value(&raw.auth_cache_ttl),
       "how long a checked user:password pair is remembered (default 5min)")
      ("cache_replacement_policy", po::value(&c.cache_replacement_policy),
       "disk cache eviction order: gdsf-sketch (default), gdsf-bytes, gdsf (also 'heap GDSF'), lru")
      ("admin_access", po::value(&raw.admin_access),
       "a rule 'allow|deny RANGE...' on who may see the proxy's own pages (/, /stats, "
       "/metrics); repeat, first match wins, then deny (default: loopback only). /proxy.pac "
       "and /wpad.dat stay open to every client client_access allows")
      ("pac_proxy_hosts", po::value(&raw.pac_proxy_hosts),
       "hosts the PAC file sends through the proxy before any DIRECT rule, repeatable or "
       "comma-separated (default none)")
      ("pac_direct_hosts", po::value(&raw.pac_direct_hosts),
       "host patterns (* and ?) the PAC file sends DIRECT, like no_proxy, e.g. *.lan; "
       "repeatable or comma-separated (default none)")
      // Serving stale (RFC 5861), Range, refresh patterns: proxy/forwarder.*, cache/.
      ("offline_mode", po::value(&c.offline_mode),
       "serve stale entries when the origin cannot be reached (TCP_REFRESH_FAIL_OLD), unless "
       "the response forbids it (default false)")
      ("background_revalidation_timeout", po::value(&raw.background_revalidation_timeout),
       "deadline of a stale-while-revalidate background revalidation (default 30s)")
      ("range_offset_limit", po::value(&raw.range_offset_limit),
       "a Range miss starting at or before this offset fetches the whole object to store it "
       "(default 1MiB, 0: only ranges from the start)")
      ("refresh_pattern", po::value(&raw.refresh_pattern),
       "'[-i] REGEX MIN PERCENT MAX' (minutes, percent of the time since Last-Modified): "
       "heuristic freshness for matching URLs; repeat, first match wins");
  // clang-format on
  return d;
}

// Applies raw string options onto the config. Returns an error message, empty if fine.
std::string apply_raw(const RawOptions& raw, Config& c) {
  if (!raw.listen.empty()) {
    c.listen.clear();
    for (const auto& text : raw.listen) {
      auto address = parse_listen_address(text);
      if (!address) return fmt::format("listen: invalid address '{}'", text);
      c.listen.push_back(*address);
    }
  }
  struct SizeOption {
    const char* name;
    const std::string& text;
    std::uint64_t& target;
  };
  std::uint64_t request_header = c.max_request_header_size;
  std::uint64_t request_line = c.max_request_line_size;
  std::uint64_t response_header = c.max_response_header_size;
  for (const SizeOption& o : {
           SizeOption{"cache_size", raw.cache_size, c.cache_size},
           SizeOption{"memory_cache_size", raw.memory_cache_size, c.memory_cache_size},
           SizeOption{"maximum_object_size", raw.maximum_object_size, c.maximum_object_size},
           SizeOption{"max_request_header_size", raw.max_request_header_size, request_header},
           SizeOption{"max_response_header_size", raw.max_response_header_size, response_header},
           SizeOption{"max_request_line_size", raw.max_request_line_size, request_line},
           SizeOption{"max_request_body_size", raw.max_request_body_size,
                      c.max_request_body_size},
           SizeOption{"range_offset_limit", raw.range_offset_limit, c.range_offset_limit},
       }) {
    if (o.text.empty()) continue;
    auto v = parse_size(o.text);
    if (!v) return fmt::format("{}: invalid size '{}'", o.name, o.text);
    o.target = *v;
  }
  if (request_header > UINT32_MAX || response_header > UINT32_MAX || request_line > UINT32_MAX)
    return "header size limits must be below 4GiB";
  c.max_request_line_size = static_cast<std::uint32_t>(request_line);
  c.max_request_header_size = static_cast<std::uint32_t>(request_header);
  c.max_response_header_size = static_cast<std::uint32_t>(response_header);

  struct DurationOption {
    const char* name;
    const std::string& text;
    Duration& target;
    bool zero_allowed = false;  // 0 switches the feature off
  };
  for (const DurationOption& o : {
           DurationOption{"heuristic_max_lifetime", raw.heuristic_max_lifetime,
                          c.heuristic_max_lifetime},
           DurationOption{"stats_interval", raw.stats_interval, c.stats_interval},
           DurationOption{"client_header_timeout", raw.client_header_timeout,
                          c.client_header_timeout},
           DurationOption{"client_idle_timeout", raw.client_idle_timeout, c.client_idle_timeout},
           DurationOption{"client_write_timeout", raw.client_write_timeout, c.client_write_timeout},
           DurationOption{"origin_connect_timeout", raw.origin_connect_timeout,
                          c.origin_connect_timeout},
           DurationOption{"origin_read_timeout", raw.origin_read_timeout, c.origin_read_timeout},
           DurationOption{"origin_idle_timeout", raw.origin_idle_timeout, c.origin_idle_timeout},
           DurationOption{"positive_dns_ttl", raw.positive_dns_ttl, c.positive_dns_ttl, true},
           DurationOption{"negative_dns_ttl", raw.negative_dns_ttl, c.negative_dns_ttl, true},
           DurationOption{"shutdown_timeout", raw.shutdown_timeout, c.shutdown_timeout},
           DurationOption{"collapsed_forwarding_timeout", raw.collapsed_forwarding_timeout,
                          c.collapsed_forwarding_timeout},
           DurationOption{"tunnel_idle_timeout", raw.tunnel_idle_timeout, c.tunnel_idle_timeout},
           DurationOption{"auth_cache_ttl", raw.auth_cache_ttl, c.auth_cache_ttl},
           DurationOption{"background_revalidation_timeout", raw.background_revalidation_timeout,
                          c.background_revalidation_timeout},
       }) {
    if (o.text.empty()) continue;
    auto v = parse_duration(o.text);
    if (!v || *v < Duration::zero() || (*v == Duration::zero() && !o.zero_allowed))
      return fmt::format("{}: invalid duration '{}'", o.name, o.text);
    o.target = *v;
  }
  if (!raw.connect_ports.empty()) {
    c.connect_ports.clear();
    for (const auto& item : raw.connect_ports) {
      std::string_view rest = item;
      while (!rest.empty()) {
        std::string_view token = rest.substr(0, rest.find(','));
        rest.remove_prefix(std::min(rest.size(), token.size() + 1));
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        unsigned port = 0;
        auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), port);
        if (ec != std::errc() || end != token.data() + token.size() || port == 0 || port > 65535)
          return fmt::format("connect_ports: invalid port '{}'", token);
        c.connect_ports.push_back(static_cast<std::uint16_t>(port));
      }
    }
  }
  const std::vector<std::string>& client_lines =
      raw.client_access.empty() ? default_client_rules() : raw.client_access;
  if (auto error = AccessRules::parse(client_lines, &c.client_access))
    return fmt::format("client_access: {}", *error);
  const std::vector<std::string>& destination_lines =
      raw.destination_access.empty() ? default_destination_rules() : raw.destination_access;
  if (auto error = AccessRules::parse(destination_lines, &c.destination_access))
    return fmt::format("destination_access: {}", *error);
  const std::vector<std::string>& admin_lines =
      raw.admin_access.empty() ? default_admin_rules() : raw.admin_access;
  if (auto error = AccessRules::parse(admin_lines, &c.admin_access))
    return fmt::format("admin_access: {}", *error);
  struct HostList {
    const char* name;
    const std::vector<std::string>& items;
    std::vector<std::string>& target;
    std::string_view extra_chars;  // allowed besides letters, digits, '-' and '.'
  };
  for (const HostList& list :
       {HostList{"pac_proxy_hosts", raw.pac_proxy_hosts, c.pac_proxy_hosts, ":[]"},
        HostList{"pac_direct_hosts", raw.pac_direct_hosts, c.pac_direct_hosts, "*?:[]"}}) {
    for (const auto& item : list.items) {
      std::string_view rest = item;
      while (!rest.empty()) {
        std::string_view token = rest.substr(0, rest.find(','));
        rest.remove_prefix(std::min(rest.size(), token.size() + 1));
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        if (token.empty()) continue;
        // Goes into the script as a string literal: host characters only.
        bool ok = std::all_of(token.begin(), token.end(), [&](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.' ||
                 list.extra_chars.find(ch) != std::string_view::npos;
        });
        if (!ok) return fmt::format("{}: '{}' is not a host name or address", list.name, token);
        list.target.push_back(lower(token));
      }
    }
  }
  c.refresh_patterns.clear();
  for (const std::string& line : raw.refresh_pattern) {
    std::string error;
    auto pattern = cache::parse_refresh_pattern(line, &error);
    if (!pattern) return fmt::format("refresh_pattern: {}", error);
    c.refresh_patterns.push_back(std::move(*pattern));
  }
  if (c.listen.empty()) return "listen: at least one address is needed";
  if (c.cache_dir.empty()) return "cache_dir: must not be empty";
  if (!cache::make_eviction_policy(c.cache_replacement_policy))
    return fmt::format("cache_replacement_policy: unknown policy '{}' (gdsf-sketch, gdsf-bytes, gdsf, lru)",
                       c.cache_replacement_policy);
  if (c.heuristic_percent < 0 || c.heuristic_percent > 1000)
    return "heuristic_percent: must be between 0 and 1000";
  if (c.store_threads == 0) return "store_threads: must be at least 1";
  if (c.storage_nice < 0 || c.storage_nice > 19) return "storage_nice: must be between 0 and 19";
  if (c.max_request_header_size < 1024) return "max_request_header_size: at least 1KiB";
  if (!c.auth_htpasswd.empty()) {
    std::string auth_error;
    if (!Htpasswd::load(c.auth_htpasswd, &auth_error))
      return fmt::format("auth_htpasswd: {}", auth_error);
  }

  // PAC settings. The address goes into the script as is: a host name or IP literal and a port.
  if (!c.pac_proxy_address.empty()) {
    const std::string& text = c.pac_proxy_address;
    std::string error = fmt::format("pac_proxy_address: '{}' is not host:port", text);
    std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) return error;
    std::string host = text.substr(0, colon);
    bool name_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.';
    });
    bool literal_ok = host.starts_with('[') && parse_listen_address(text).has_value();
    unsigned port = 0;
    const char* port_end = text.data() + text.size();
    auto [end, ec] = std::from_chars(text.data() + colon + 1, port_end, port);
    if (!(name_ok || literal_ok) || ec != std::errc() || end != port_end || port == 0 ||
        port > 65535)
      return error;
  }
  if (!raw.pac_direct_networks.empty()) {
    c.pac_direct_networks.clear();
    for (const auto& item : raw.pac_direct_networks) {
      std::string_view rest = item;
      while (!rest.empty()) {
        std::string_view token = rest.substr(0, rest.find(','));
        rest.remove_prefix(std::min(rest.size(), token.size() + 1));
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        if (token == "none" || token.empty()) continue;
        boost::system::error_code net_ec;
        auto network = boost::asio::ip::make_network_v4(token, net_ec);
        if (net_ec)
          return fmt::format("pac_direct_networks: '{}' is not an IPv4 network like 10.0.0.0/8",
                             token);
        c.pac_direct_networks.push_back(network.canonical());
      }
    }
  }
  return {};
}

}  // namespace

std::optional<std::uint64_t> parse_size(const std::string& text) {
  return parse_with_units(text, size_units);
}

std::optional<Duration> parse_duration(const std::string& text) {
  auto ms = parse_with_units(text, duration_units);
  if (!ms) return std::nullopt;
  return Duration(static_cast<Duration::rep>(*ms));
}

std::optional<ListenAddress> parse_listen_address(const std::string& text) {
  std::string host = "127.0.0.1";
  std::string port_text = text;
  if (!text.empty() && text.front() == '[') {  // [v6]:port
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  unsigned port = 0;
  auto [end, perr] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (perr != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  return ListenAddress{host, static_cast<std::uint16_t>(port)};
}

namespace {

// Flags may spell a setting with dashes (--cache-dir) or as its config key (--cache_dir).
std::vector<std::string> normalize_flags(int argc, const char* const* argv) {
  static constexpr std::array kGeneric{"help", "version", "config", "check-config"};
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      std::size_t end = std::min(arg.find('='), arg.size());
      std::string name = arg.substr(2, end - 2);
      if (std::find(kGeneric.begin(), kGeneric.end(), name) == kGeneric.end())
        std::replace(arg.begin() + 2, arg.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
    }
    args.push_back(std::move(arg));
  }
  return args;
}

// The line of `file` that sets `name` (the last one: for repeatable settings as good as any),
// or of the line whose text is `text`; 0 if none. Lets an error point into the file.
int locate_line(const std::string& path, std::string_view name, std::string_view text = {}) {
  std::ifstream file(path);
  std::string line;
  int number = 0;
  int found = 0;
  while (std::getline(file, line)) {
    ++number;
    std::string_view view = line;
    while (!view.empty() && std::isspace(static_cast<unsigned char>(view.front())))
      view.remove_prefix(1);
    while (!view.empty() && std::isspace(static_cast<unsigned char>(view.back())))
      view.remove_suffix(1);
    if (!text.empty() && view == text) return number;
    if (name.empty() || !view.starts_with(name)) continue;
    std::string_view rest = view.substr(name.size());
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    if (rest.starts_with('=')) found = number;
  }
  return found;
}

// "FILE:LINE: " when the setting an error names comes from the config file, else "".
std::string file_position(const std::string& path, std::string_view name,
                          std::string_view text = {}) {
  if (path.empty()) return {};
  int line = locate_line(path, name, text);
  return line > 0 ? fmt::format("{}:{}: ", path, line) : std::string();
}

}  // namespace

std::vector<std::string> settings_needing_restart(const Config& running, const Config& loaded) {
  std::vector<std::string> names;
  auto same_listen = [](const ListenAddress& a, const ListenAddress& b) {
    return a.host == b.host && a.port == b.port;
  };
  if (!std::equal(running.listen.begin(), running.listen.end(), loaded.listen.begin(),
                  loaded.listen.end(), same_listen))
    names.push_back("listen");
  if (running.cache_dir != loaded.cache_dir) names.push_back("cache_dir");
  if (running.threads != loaded.threads) names.push_back("threads");
  if (running.store_threads != loaded.store_threads) names.push_back("store_threads");
  if (running.storage_nice != loaded.storage_nice) names.push_back("storage_nice");
  if (running.cache_replacement_policy != loaded.cache_replacement_policy)
    names.push_back("cache_replacement_policy");
  if (running.auth_htpasswd != loaded.auth_htpasswd) names.push_back("auth_htpasswd");
  if (running.auth_realm != loaded.auth_realm) names.push_back("auth_realm");
  if (running.auth_cache_ttl != loaded.auth_cache_ttl) names.push_back("auth_cache_ttl");
  return names;
}

ConfigResult parse_config(int argc, const char* const* argv) {
  ConfigResult result;
  Config config;
  RawOptions raw;
  std::string config_path;

  po::options_description generic("cacheproxy: a caching HTTP forward proxy\n\nUsage");
  generic.add_options()("help,h", "print this help")("version,V", "print the version")(
      "config,c", po::value(&config_path), "config file (key = value lines)")(
      "check-config", "validate the config and exit: 0 if valid, 1 if not");
  po::options_description settings = describe_options(config, raw);
  po::options_description all;
  all.add(generic).add(settings);

  po::variables_map vm;
  std::string file_path;  // config_path is only set by notify(), after the file is read
  try {
    po::store(po::command_line_parser(normalize_flags(argc, argv)).options(all).run(), vm);
    if (vm.count("help")) {
      std::ostringstream out;
      out << all << "\nEvery setting is also a flag, with dashes or underscores: --cache-dir=DIR\n";
      result.message = out.str();
      return result;
    }
    if (vm.count("version")) {
      result.message = fmt::format("cacheproxy {}\n", kVersion);
      return result;
    }
    if (vm.count("config")) {
      std::string path = vm["config"].as<std::string>();
      file_path = path;
      std::ifstream file(path);
      if (!file) {
        result.exit_code = 1;
        result.message = fmt::format("cannot read config file '{}'", path);
        return result;
      }
      // Command-line values were stored first, so they win over the file's.
      po::store(po::parse_config_file(file, settings), vm);
    }
    po::notify(vm);
  } catch (const po::invalid_config_file_syntax& e) {
    result.exit_code = 1;
    result.message =
        fmt::format("config error: {}{}", file_position(file_path, "", e.tokens()), e.what());
    return result;
  } catch (const po::error_with_option_name& e) {
    std::string name = e.get_option_name();
    name.erase(0, name.find_first_not_of('-'));
    result.exit_code = 1;
    result.message = fmt::format("config error: {}{}", file_position(file_path, name), e.what());
    return result;
  } catch (const po::error& e) {
    result.exit_code = 1;
    result.message = fmt::format("config error: {}", e.what());
    return result;
  }
  if (std::string error = apply_raw(raw, config); !error.empty()) {
    // Errors start with the setting's name: "cache_size: invalid size 'lots'".
    std::string_view name = std::string_view(error).substr(0, error.find(':'));
    result.exit_code = 1;
    result.message = fmt::format("config error: {}{}", file_position(file_path, name), error);
    return result;
  }
  result.check_only = vm.count("check-config") > 0;
  result.config = std::move(config);
  return result;
}

}  // namespace cacheproxy
