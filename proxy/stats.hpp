// Process-wide counters: lock-free, updated by every session, read by /stats and the
// periodic summary line.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

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
  tcp_refresh_fail_old,  // the origin failed; a stale entry answered (RFC 5861, offline_mode)
  none,  // answered without a cache decision: errors, local pages. Stays last: see below.
};

const char* to_string(ResultCode code);

inline constexpr std::size_t kResultCodeCount = static_cast<std::size_t>(ResultCode::none) + 1;

// Methods counted one by one (RFC 9110 §9.1's registry of common methods, plus PATCH of
// RFC 5789); any other is counted as "other", so whatever clients send, the per-method
// counters (and the metric labels made from them) stay a small fixed set.
inline constexpr std::array<std::string_view, 9> kCountedMethods{
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
inline constexpr std::string_view kOtherMethod = "other";
inline constexpr std::size_t kMethodSlots = kCountedMethods.size() + 1;  // the last is "other"

// The slot of `method` in the per-method tables; unknown or unparsed methods share the last.
std::size_t method_slot(std::string_view method);
// The method name of a slot: kCountedMethods[slot], or kOtherMethod.
std::string_view method_name(std::size_t slot);

// Upper bounds of the request duration histogram's buckets: Prometheus' default buckets
// (5 ms to 10 s), extended to a minute for slow origins and large downloads. One more bucket
// counts everything above the last bound.
inline constexpr std::array<std::chrono::microseconds, 13> kDurationBuckets{
    std::chrono::milliseconds(5),   std::chrono::milliseconds(10),  std::chrono::milliseconds(25),
    std::chrono::milliseconds(50),  std::chrono::milliseconds(100), std::chrono::milliseconds(250),
    std::chrono::milliseconds(500), std::chrono::seconds(1),        std::chrono::milliseconds(2500),
    std::chrono::seconds(5),        std::chrono::seconds(10),       std::chrono::seconds(30),
    std::chrono::seconds(60)};

struct DurationHistogram {
  // counts[i]: durations in (bound[i-1], bound[i]]; the last entry: above every bound. Not
  // cumulative (the exposition format's buckets are; the renderer adds them up).
  std::array<std::uint64_t, kDurationBuckets.size() + 1> counts{};
  std::chrono::microseconds sum{0};

  std::uint64_t count() const;
};

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
  // Complete responses not stored because the store was behind (background commits held
  // their whole allowance): relayed only, as Squid and Traffic Server do past a disk backlog.
  std::uint64_t stores_skipped = 0;
  std::uint64_t invalidations = 0;
  std::uint64_t client_connections = 0;  // accepted in total
  std::uint64_t active_connections = 0;
  std::uint64_t origin_connections_reused = 0;  // idle pooled connections handed out again
  std::uint64_t tunnels_active = 0;             // CONNECT tunnels open now
  // Finished requests by result and method: [ResultCode][method_slot].
  std::array<std::array<std::uint64_t, kMethodSlots>, kResultCodeCount> requests_by_result{};
  DurationHistogram request_durations;  // header received to access-log line

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
  void count_store_skipped() { ++stores_skipped_; }
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
  // One finished request, as it is logged: counted by result and method, and its duration
  // (from its header being read to its log line) put in the histogram.
  void observe_request(ResultCode code, std::string_view method,
                       std::chrono::steady_clock::duration elapsed);
  void count_origin_reuse() { ++origin_connections_reused_; }
  void tunnel_opened() { ++tunnels_active_; }
  void tunnel_closed() { --tunnels_active_; }

  StatsSnapshot snapshot() const;

 private:
  std::atomic<std::uint64_t> requests_{0}, memory_hits_{0}, disk_hits_{0}, misses_{0};
  std::atomic<std::uint64_t> revalidations_{0}, refresh_unmodified_{0}, refresh_modified_{0};
  std::atomic<std::uint64_t> errors_{0}, client_errors_{0}, tunnels_{0}, local_{0}, denied_{0};
  std::atomic<std::uint64_t> bytes_from_cache_{0}, bytes_from_origin_{0};
  std::atomic<std::uint64_t> stores_{0}, store_aborts_{0}, stores_skipped_{0}, invalidations_{0};
  std::atomic<std::uint64_t> client_connections_{0}, active_connections_{0};
  std::atomic<std::uint64_t> tunnel_bytes_to_origin_{0}, tunnel_bytes_to_client_{0};
  std::atomic<std::uint64_t> origin_connections_reused_{0}, tunnels_active_{0};
  std::array<std::array<std::atomic<std::uint64_t>, kMethodSlots>, kResultCodeCount>
      requests_by_result_{};
  std::array<std::atomic<std::uint64_t>, kDurationBuckets.size() + 1> duration_counts_{};
  std::atomic<std::uint64_t> duration_sum_us_{0};
};

// Counts a CONNECT tunnel as active for its lifetime: `ActiveTunnel active(services.stats);`
class ActiveTunnel {
 public:
  explicit ActiveTunnel(Stats& stats) : stats_(stats) { stats_.tunnel_opened(); }
  ~ActiveTunnel() { stats_.tunnel_closed(); }
  ActiveTunnel(const ActiveTunnel&) = delete;
  ActiveTunnel& operator=(const ActiveTunnel&) = delete;

 private:
  Stats& stats_;
};

// One human-readable summary line, for the log every stats_interval and at shutdown.
std::string summary_line(const StatsSnapshot& s);

}  // namespace cacheproxy
