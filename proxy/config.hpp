// The proxy's settings: parsed once from the config file and command-line flags into an
// immutable Config. Flags override the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

  // Limits and timeouts.
  std::uint32_t max_request_header_size = 64 * 1024;
  std::uint32_t max_response_header_size = 64 * 1024;
  Duration client_header_timeout = std::chrono::seconds(30);
  Duration client_idle_timeout = std::chrono::seconds(60);
  Duration client_write_timeout = std::chrono::seconds(60);
  Duration origin_connect_timeout = std::chrono::seconds(10);
  Duration origin_read_timeout = std::chrono::seconds(60);
  Duration origin_idle_timeout = std::chrono::seconds(30);
  unsigned origin_idle_per_host = 16;
  // CONNECT: allowed target ports (Squid's SSL_ports) and how long a silent tunnel lives.
  std::vector<std::uint16_t> connect_ports{443};
  Duration tunnel_idle_timeout = std::chrono::minutes(5);
  Duration shutdown_timeout = std::chrono::seconds(10);
};

// What parse_config decided: run with a config, or exit (help, version, check, error).
struct ConfigResult {
  std::optional<Config> config;
  int exit_code = 0;    // meaningful when config is empty
  std::string message;  // printed to stdout (help, version) or stderr (errors)
  bool check_only = false;
};

// Parses argv (--config FILE, overriding flags, --check-config, --help, --version).
ConfigResult parse_config(int argc, const char* const* argv);

// "64MiB", "1GiB", "512KB", "1048576" -> bytes. nullopt if malformed.
std::optional<std::uint64_t> parse_size(const std::string& text);
// "30s", "5min", "250ms", "2h", "10" (seconds) -> duration. nullopt if malformed.
std::optional<Duration> parse_duration(const std::string& text);
// "127.0.0.1:3128", "[::1]:3128", "3128" (loopback) -> address. nullopt if malformed.
std::optional<ListenAddress> parse_listen_address(const std::string& text);

}  // namespace cacheproxy
