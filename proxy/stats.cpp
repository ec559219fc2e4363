#include "proxy/stats.hpp"

#include <fmt/format.h>

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
    case ResultCode::none:
      return "NONE";
  }
  return "NONE";
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
      break;
    case ResultCode::none:
      ++local_;
      break;
  }
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
  s.invalidations = invalidations_;
  s.client_connections = client_connections_;
  s.active_connections = active_connections_;
  return s;
}

std::string summary_line(const StatsSnapshot& s) {
  return fmt::format(
      "requests={} hits={} (mem={} disk={} refresh={}) misses={} refresh_modified={} "
      "errors={} request_hit_ratio={:.3f} byte_hit_ratio={:.3f} bytes_from_cache={} "
      "bytes_from_origin={} stores={} connections={} active={}",
      s.requests, s.hits(), s.memory_hits, s.disk_hits, s.refresh_unmodified, s.misses,
      s.refresh_modified, s.errors, s.request_hit_ratio(), s.byte_hit_ratio(), s.bytes_from_cache,
      s.bytes_from_origin, s.stores, s.client_connections, s.active_connections);
}

}  // namespace cacheproxy
