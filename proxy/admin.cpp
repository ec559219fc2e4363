#include "proxy/admin.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "proxy/metrics.hpp"
#include "proxy/pac.hpp"
#include "proxy/version.hpp"

namespace cacheproxy {

namespace http = boost::beast::http;
namespace json = boost::json;

std::string stats_json(const Services& services) {
  StatsSnapshot s = services.stats.snapshot();
  cache::StoreUsage usage = services.store.usage();
  cache::StoreCounters store = services.store.counters();
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                                 services.started);
  json::object doc{
      {"version", kVersion},
      {"uptime_seconds", uptime.count()},
      {"requests", s.requests},
      {"hits", s.hits()},
      {"memory_hits", s.memory_hits},
      {"disk_hits", s.disk_hits},
      {"misses", s.misses},
      {"revalidations", s.revalidations},
      {"refresh_unmodified", s.refresh_unmodified},
      {"refresh_modified", s.refresh_modified},
      {"errors", s.errors},
      {"client_errors", s.client_errors},
      {"tunnels", s.tunnels},
      {"tunnel_bytes_to_origin", s.tunnel_bytes_to_origin},
      {"tunnel_bytes_to_client", s.tunnel_bytes_to_client},
      {"denied", s.denied},
      {"local_requests", s.local},
      {"bytes_from_cache", s.bytes_from_cache},
      {"bytes_from_origin", s.bytes_from_origin},
      {"request_hit_ratio", s.request_hit_ratio()},
      {"byte_hit_ratio", s.byte_hit_ratio()},
      {"stores", s.stores},
      {"store_aborts", s.store_aborts},
      {"invalidations", s.invalidations},
      {"client_connections", s.client_connections},
      {"active_connections", s.active_connections},
      {"cache",
       json::object{
           {"disk_bytes", usage.bytes},
           {"disk_entries", usage.entries},
           {"disk_budget_bytes", services.config.cache_size},
           {"memory_bytes", services.memory.bytes()},
           {"memory_entries", services.memory.entries()},
           {"memory_budget_bytes", services.config.memory_cache_size},
           {"corrupt_erased", store.corrupt_erased},
           {"evictions", store.evictions},
           {"evicted_bytes", store.evicted_bytes},
       }},
  };
  return json::serialize(doc) + "\n";
}

SimpleResponse handle_local_request(const Services& services, http::verb method,
                                    std::string_view path) {
  if (method != http::verb::get && method != http::verb::head)
    return make_error(http::status::method_not_allowed, "the proxy's own pages take GET");
  std::string_view route = path.substr(0, path.find('?'));
  SimpleResponse r;
  if (route == "/stats") {
    r.content_type = "application/json";
    r.body = stats_json(services);
    return r;
  }
  if (route == "/metrics") {
    r.content_type = kMetricsContentType;
    r.body = render_metrics(services);
    return r;
  }
  // WPAD clients fetch /wpad.dat from the host "wpad" finds; other browsers are configured
  // with the PAC URL. Same script for both.
  if (route == "/proxy.pac" || route == "/wpad.dat") {
    r.content_type = kPacContentType;
    r.body = proxy_auto_config(services.config);
    return r;
  }
  if (route == "/") {
    r.body = fmt::format(
        "cacheproxy {}: a caching HTTP forward proxy.\n"
        "Set this address as your browser's HTTP and HTTPS proxy, or its automatic proxy\n"
        "configuration URL to /proxy.pac. Statistics: /stats (JSON), /metrics (Prometheus)\n",
        kVersion);
    return r;
  }
  return make_error(http::status::not_found,
                    fmt::format("no local page {}; this is a proxy: send absolute URLs", route));
}

}  // namespace cacheproxy
