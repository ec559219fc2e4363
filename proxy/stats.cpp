#include "proxy/stats.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace cacheproxy {

const char* to_string(ResultCode code) {
  switch (code) {
    case ResultCode::tcp_hit:
      return "TCP_HIT";
    case ResultCode::tcp_mem_hit:
      return "TCP_MEM_HIT";
    case ResultCode::tcp_miss:
      return "TCP_MISS";
    case ResultCode::tcp_refresh_unmodified:
      return "TCP_REFRESH_UNMODIFIED";
    case ResultCode::tcp_refresh_modified:
      return "TCP_REFRESH_MODIFIED";
    case ResultCode::tcp_denied:
      return "TCP_DENIED";
    case ResultCode::tcp_tunnel:
      return "TCP_TUNNEL";
    case ResultCode::tcp_refresh_fail_old:
      return "TCP_REFRESH_FAIL_OLD";
    case ResultCode::none:
      return "NONE";
  }
  return "NONE";
}

std::size_t method_slot(std::string_view method) {
  auto it = std::find(kCountedMethods.begin(), kCountedMethods.end(), method);
  return static_cast<std::size_t>(it - kCountedMethods.begin());  // past the end: "other"
}

std::string_view method_name(std::size_t slot) {
  return slot < kCountedMethods.size() ? kCountedMethods[slot] : kOtherMethod;
}

std::uint64_t DurationHistogram::count() const {
  std::uint64_t n = 0;
  for (std::uint64_t c : counts) n += c;
  return n;
}

double StatsSnapshot::request_hit_ratio() const {
  std::uint64_t lookups = hits() + misses + refresh_modified;
  return lookups == 0 ? 0.0 : static_cast<double>(hits()) / static_cast<double>(lookups);
}

double StatsSnapshot::byte_hit_ratio() const {
  std::uint64_t total = bytes_from_cache + bytes_from_origin;
  return total == 0 ? 0.0 : static_cast<double>(bytes_from_cache) / static_cast<double>(total);
}

void Stats::count_result(ResultCode code) {
  ++requests_;
  switch (code) {
    case ResultCode::tcp_hit:
      ++disk_hits_;
      break;
    case ResultCode::tcp_mem_hit:
      ++memory_hits_;
      break;
    case ResultCode::tcp_miss:
      ++misses_;
      break;
    case ResultCode::tcp_refresh_unmodified:
      ++refresh_unmodified_;
      break;
    case ResultCode::tcp_refresh_modified:
      ++refresh_modified_;
      break;
    case ResultCode::tcp_tunnel:
      ++tunnels_;
      break;
    case ResultCode::tcp_denied:
    case ResultCode::tcp_refresh_fail_old:  // counted per result only
      break;
    case ResultCode::none:
      ++local_;
      break;
  }
}

void Stats::observe_request(ResultCode code, std::string_view method,
                            std::chrono::steady_clock::duration elapsed) {
  // Plain counters with no ordering between them: relaxed is enough, and cheapest.
  constexpr auto relaxed = std::memory_order_relaxed;
  requests_by_result_[static_cast<std::size_t>(code)][method_slot(method)].fetch_add(1, relaxed);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  // Prometheus buckets are "less than or equal": the first bound not below the duration.
  auto bucket = std::lower_bound(kDurationBuckets.begin(), kDurationBuckets.end(), us);
  duration_counts_[static_cast<std::size_t>(bucket - kDurationBuckets.begin())].fetch_add(1,
                                                                                          relaxed);
  duration_sum_us_.fetch_add(static_cast<std::uint64_t>(std::max<std::int64_t>(0, us.count())),
                             relaxed);
}

StatsSnapshot Stats::snapshot() const {
  StatsSnapshot s;
  s.requests = requests_;
  s.memory_hits = memory_hits_;
  s.disk_hits = disk_hits_;
  s.misses = misses_;
  s.revalidations = revalidations_;
  s.refresh_unmodified = refresh_unmodified_;
  s.refresh_modified = refresh_modified_;
  s.errors = errors_;
  s.client_errors = client_errors_;
  s.tunnels = tunnels_;
  s.tunnel_bytes_to_origin = tunnel_bytes_to_origin_;
  s.tunnel_bytes_to_client = tunnel_bytes_to_client_;
  s.local = local_;
  s.denied = denied_;
  s.bytes_from_cache = bytes_from_cache_;
  s.bytes_from_origin = bytes_from_origin_;
  s.stores = stores_;
  s.store_aborts = store_aborts_;
  s.stores_skipped = stores_skipped_;
  s.invalidations = invalidations_;
  s.client_connections = client_connections_;
  s.active_connections = active_connections_;
  s.origin_connections_reused = origin_connections_reused_;
  s.tunnels_active = tunnels_active_;
  for (std::size_t r = 0; r < kResultCodeCount; ++r) {
    for (std::size_t m = 0; m < kMethodSlots; ++m)
      s.requests_by_result[r][m] = requests_by_result_[r][m].load(std::memory_order_relaxed);
  }
  for (std::size_t b = 0; b < duration_counts_.size(); ++b)
    s.request_durations.counts[b] = duration_counts_[b].load(std::memory_order_relaxed);
  s.request_durations.sum = std::chrono::microseconds(
      static_cast<std::int64_t>(duration_sum_us_.load(std::memory_order_relaxed)));
  return s;
}

std::string summary_line(const StatsSnapshot& s) {
  return fmt::format(
      "requests={} hits={} (mem={} disk={} refresh={}) misses={} refresh_modified={} "
      "errors={} request_hit_ratio={:.3f} byte_hit_ratio={:.3f} bytes_from_cache={} "
      "bytes_from_origin={} stores={} stores_skipped={} connections={} active={}",
      s.requests, s.hits(), s.memory_hits, s.disk_hits, s.refresh_unmodified, s.misses,
      s.refresh_modified, s.errors, s.request_hit_ratio(), s.byte_hit_ratio(), s.bytes_from_cache,
      s.bytes_from_origin, s.stores, s.stores_skipped, s.client_connections,
      s.active_connections);
}

}  // namespace cacheproxy
