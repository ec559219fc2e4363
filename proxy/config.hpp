// The proxy's settings: parsed once from the config file and command-line flags into an
// immutable Config. Flags override the file.
#pragma once

#include "cache/eviction_policy.hpp"
#include "cache/refresh_patterns.hpp"

#include "proxy/access_control.hpp"

#include <boost/asio/ip/network_v4.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxy/access_control.hpp"

namespace cacheproxy {

using Duration = std::chrono::milliseconds;

struct ListenAddress {
  std::string host;  // numeric IPv4 or IPv6 address
  std::uint16_t port = 0;
};

struct Config {
  std::vector<ListenAddress> listen{{"127.0.0.1", 3128}};
  std::string visible_hostname = "cacheproxy";  // names this proxy in Via

  // Cache.
  std::string cache_dir = "var/cache";
  std::uint64_t cache_size = 1ull << 30;
  std::uint64_t memory_cache_size = 256ull << 20;
  std::uint64_t maximum_object_size = 64ull << 20;
  double heuristic_percent = 10;  // of (Date - Last-Modified), RFC 9111 §4.2.2
  Duration heuristic_max_lifetime = std::chrono::hours(24);

  // Logging and statistics.
  std::string access_log = "var/access.log";  // "-" is stdout, "none" disables it
  Duration stats_interval = std::chrono::seconds(60);

  // Threads: 0 means one per core.
  unsigned threads = 0;
  unsigned store_threads = 2;
  // How far below the network threads the storage threads run (cache/background_thread.hpp).
  int storage_nice = 5;

  // Limits and timeouts.
  std::uint32_t max_request_header_size = 64 * 1024;
  std::uint32_t max_response_header_size = 64 * 1024;
  Duration client_header_timeout = std::chrono::seconds(30);
  Duration client_idle_timeout = std::chrono::seconds(60);
  Duration client_write_timeout = std::chrono::seconds(60);
  Duration origin_connect_timeout = std::chrono::seconds(10);
  Duration origin_read_timeout = std::chrono::seconds(60);
  Duration origin_idle_timeout = std::chrono::seconds(30);
  unsigned origin_idle_per_host = 256;
  // How long resolved origin addresses (and names that do not exist) are kept; 0 disables.
  // getaddrinfo reports no record TTLs, so this is the lifetime of every answer.
  Duration positive_dns_ttl = std::chrono::seconds(60);
  Duration negative_dns_ttl = std::chrono::seconds(60);
  // CONNECT: allowed target ports (Squid's SSL_ports) and how long a silent tunnel lives.
  std::vector<std::uint16_t> connect_ports{443};
  Duration tunnel_idle_timeout = std::chrono::minutes(5);

  // Access control (Squid's http_access): ordered rules, first match wins, then deny.
  AccessRules client_access = default_client_access();  // who may use the proxy
  // Which addresses it may connect to on their behalf.
  AccessRules destination_access = default_destination_access();
  // Clients on the proxy host itself can reach its loopback services directly anyway, so the
  // destination rules are applied to them only when this is set.
  bool destination_access_for_loopback_clients = false;

  // Limits on what clients may send and how many connections they may hold.
  std::uint32_t max_request_line_size = 16 * 1024;  // 414 beyond
  std::uint64_t max_request_body_size = 0;          // 413 beyond; 0: no limit
  std::uint32_t max_connections = 4096;             // 503 beyond
  std::uint32_t max_connections_per_client = 256;   // 503 beyond
  Duration shutdown_timeout = std::chrono::seconds(10);
  // How long a miss waits for a concurrent fetch of the same URL before fetching itself.
  Duration collapsed_forwarding_timeout = std::chrono::seconds(10);

  // PAC and WPAD (/proxy.pac, /wpad.dat: proxy/pac.*): what the generated FindProxyForURL
  // answers.
  // "host:port" browsers should use; empty: the first non-loopback listen address (else the
  // first listen address) with its port.
  std::string pac_proxy_address;
  // IPv4 ranges browsers reach directly (isInNet takes IPv4 only): by default the private
  // ranges of RFC 1918 and loopback.
  std::vector<boost::asio::ip::network_v4> pac_direct_networks{
      boost::asio::ip::make_network_v4("10.0.0.0/8"),
      boost::asio::ip::make_network_v4("172.16.0.0/12"),
      boost::asio::ip::make_network_v4("192.168.0.0/16"),
      boost::asio::ip::make_network_v4("127.0.0.0/8")};
  // Ends the proxy list with DIRECT, so browsers go direct while the proxy is down.
  bool pac_fallback_direct = true;

  // Proxy authentication (proxy/authenticator.*): empty path means none. An htpasswd file of
  // bcrypt or SHA-512-crypt hashes; requests without valid Basic credentials get 407.
  std::string auth_htpasswd;
  std::string auth_realm = "cacheproxy";
  // How long a verified (or refused) user:password pair is remembered.
  Duration auth_cache_ttl = std::chrono::minutes(5);
  // The disk cache's eviction order, by cache::make_eviction_policy() name (Squid's name for
  // the setting; its "heap GDSF" is accepted). The default is chosen by docs/BENCHMARKS.md.
  std::string cache_replacement_policy = std::string(cache::kDefaultEvictionPolicy);
  // Who may see the proxy's own pages (/, /stats, /metrics); /proxy.pac and /wpad.dat are open
  // to every client client_access allows, since browsers fetch them. Same syntax as
  // client_access. Default: the proxy host only.
  AccessRules admin_access = default_admin_access();

  // Hosts (names or IP literals, as URLs spell them) the PAC file sends through the proxy
  // before any DIRECT rule: a LAN server that should be cached, or the loopback origin of a
  // browser test. Empty by default.
  std::vector<std::string> pac_proxy_hosts;
  // Host patterns (shExpMatch: * and ?) the PAC file sends DIRECT, like no_proxy: intranet
  // domains ("*.lan"). Checked after pac_proxy_hosts. Empty by default.
  std::vector<std::string> pac_direct_hosts;
  // Serving stale and background revalidation (RFC 5861, RFC 9111 §4.2.4).
  // Squid's offline_mode, for a flaky uplink: when the origin cannot be reached, times out or
  // answers 5xx, any stale entry answers (TCP_REFRESH_FAIL_OLD) unless must-revalidate,
  // proxy-revalidate, s-maxage or no-cache forbid it.
  bool offline_mode = false;
  // The deadline of one background revalidation (stale-while-revalidate).
  Duration background_revalidation_timeout = std::chrono::seconds(30);
  // Squid's range_offset_limit: a Range miss whose first range starts at or before this offset
  // fetches the whole object (so it can be stored) and answers the range from it.
  std::uint64_t range_offset_limit = 1 << 20;
  // Squid's refresh_pattern: per-URL heuristic freshness (first match wins), else
  // heuristic_percent / heuristic_max_lifetime.
  std::vector<cache::RefreshPattern> refresh_patterns;
};

// What parse_config decided: run with a config, or exit (help, version, check, error).
struct ConfigResult {
  std::optional<Config> config;
  int exit_code = 0;    // meaningful when config is empty
  std::string message;  // printed to stdout (help, version) or stderr (errors)
  bool check_only = false;
};

// Parses argv (--config FILE, overriding flags, --check-config, --help, --version). An error
// in the file names its path and line: "config error: FILE:LINE: cache_size: invalid size".
ConfigResult parse_config(int argc, const char* const* argv);

// The settings that only take effect at start (listen, cache_dir, threads...) and differ
// between `running` and `loaded`: what a reload must report as needing a restart.
std::vector<std::string> settings_needing_restart(const Config& running, const Config& loaded);

// "64MiB", "1GiB", "512KB", "1048576" -> bytes. nullopt if malformed.
std::optional<std::uint64_t> parse_size(const std::string& text);
// "30s", "5min", "250ms", "2h", "10" (seconds) -> duration. nullopt if malformed.
std::optional<Duration> parse_duration(const std::string& text);
// "127.0.0.1:3128", "[::1]:3128", "3128" (loopback) -> address. nullopt if malformed.
std::optional<ListenAddress> parse_listen_address(const std::string& text);

}  // namespace cacheproxy
