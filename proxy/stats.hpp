// Process-wide counters: lock-free, updated by every session, read by /stats and the
// periodic summary line.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace cacheproxy {

// Squid's result codes (the part before the slash in access.log).
enum class ResultCode {
  tcp_hit,
  tcp_mem_hit,
  tcp_miss,
  tcp_refresh_unmodified,
  tcp_refresh_modified,
  tcp_denied,
  tcp_tunnel,
  none,  // answered without a cache decision: errors, local pages
};

const char* to_string(ResultCode code);

struct StatsSnapshot {
  std::uint64_t requests = 0;
  std::uint64_t memory_hits = 0;
  std::uint64_t disk_hits = 0;
  std::uint64_t misses = 0;
  std::uint64_t revalidations = 0;       // conditional requests sent to origins
  std::uint64_t refresh_unmodified = 0;  // ... answered 304
  std::uint64_t refresh_modified = 0;    // ... answered with a new response
  std::uint64_t errors = 0;              // responses with status >= 500 made by the proxy
  std::uint64_t client_errors = 0;       // 4xx made by the proxy (bad requests)
  std::uint64_t tunnels = 0;
  std::uint64_t tunnel_bytes_to_origin = 0;
  std::uint64_t tunnel_bytes_to_client = 0;
  std::uint64_t local = 0;              // requests to the proxy itself
  std::uint64_t denied = 0;             // refused by access rules (TCP_DENIED)
  std::uint64_t bytes_from_cache = 0;   // body bytes served from the cache
  std::uint64_t bytes_from_origin = 0;  // body bytes received from origins and served
  std::uint64_t stores = 0;             // entries committed
  std::uint64_t store_aborts = 0;       // inserts given up (too large, incomplete)
  std::uint64_t invalidations = 0;
  std::uint64_t client_connections = 0;  // accepted in total
  std::uint64_t active_connections = 0;

  std::uint64_t hits() const { return memory_hits + disk_hits + refresh_unmodified; }
  // Of the requests that could use the cache (hits + misses + refreshes).
  double request_hit_ratio() const;
  double byte_hit_ratio() const;
};

class Stats {
 public:
  void count_result(ResultCode code);
  void add_bytes_from_cache(std::uint64_t n) { bytes_from_cache_ += n; }
  void add_bytes_from_origin(std::uint64_t n) { bytes_from_origin_ += n; }
  void count_revalidation() { ++revalidations_; }
  void count_error() { ++errors_; }
  void count_client_error() { ++client_errors_; }
  void count_store() { ++stores_; }
  void count_store_abort() { ++store_aborts_; }
  void count_invalidation() { ++invalidations_; }
  void add_tunnel_bytes(std::uint64_t to_origin, std::uint64_t to_client) {
    tunnel_bytes_to_origin_ += to_origin;
    tunnel_bytes_to_client_ += to_client;
  }
  void connection_opened() {
    ++client_connections_;
    ++active_connections_;
  }
  void connection_closed() { --active_connections_; }

  StatsSnapshot snapshot() const;

 private:
  std::atomic<std::uint64_t> requests_{0}, memory_hits_{0}, disk_hits_{0}, misses_{0};
  std::atomic<std::uint64_t> revalidations_{0}, refresh_unmodified_{0}, refresh_modified_{0};
  std::atomic<std::uint64_t> errors_{0}, client_errors_{0}, tunnels_{0}, local_{0}, denied_{0};
  std::atomic<std::uint64_t> bytes_from_cache_{0}, bytes_from_origin_{0};
  std::atomic<std::uint64_t> stores_{0}, store_aborts_{0}, invalidations_{0};
  std::atomic<std::uint64_t> client_connections_{0}, active_connections_{0};
  std::atomic<std::uint64_t> tunnel_bytes_to_origin_{0}, tunnel_bytes_to_client_{0};
};

// One human-readable summary line, for the log every stats_interval and at shutdown.
std::string summary_line(const StatsSnapshot& s);

}  // namespace cacheproxy
