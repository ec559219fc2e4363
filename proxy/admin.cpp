#include "proxy/admin.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "proxy/live_page.hpp"
#include "proxy/metrics.hpp"
#include "proxy/pac.hpp"
#include "proxy/version.hpp"

namespace cacheproxy {

namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

// How many hosts each ranking of /stats lists.
constexpr std::size_t kTopHostsShown = 10;

json::object window_json(const TrafficWindow& w) {
  return json::object{
      {"seconds", w.seconds},
      {"requests", w.requests},
      {"hits", w.hits},
      {"lookups", w.lookups},
      {"bytes_from_cache", w.bytes_from_cache},
      {"bytes_from_origin", w.bytes_from_origin},
      {"request_hit_ratio", w.request_hit_ratio()},
      {"byte_hit_ratio", w.byte_hit_ratio()},
      {"requests_per_second", w.requests_per_second()},
  };
}

json::array sample_json(const TrafficSample& t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time.time_since_epoch());
  return json::array{ms.count(),  t.requests,           t.memory_hits,
                     t.disk_hits, t.refresh_unmodified, t.misses,
                     t.errors,    t.bytes_from_cache,   t.bytes_from_origin};
}

json::array hosts_json(const std::vector<TopHosts::Row>& rows) {
  json::array out;
  for (const auto& row : rows)
    out.push_back(json::object{
        {"host", row.host}, {"requests", row.requests}, {"bytes_saved", row.bytes_saved}});
  return out;
}

// The live page's figures: hit ratios and request rate over recent windows, the sampled
// history for its charts, the busiest hosts.
void add_live_figures(json::object& doc, const Services& services, const StatsSnapshot& s) {
  TrafficSample now = TrafficSample::of(s, std::chrono::system_clock::now());
  const TrafficHistory& history = services.shared.history;
  doc["windows"] = json::object{
      {"now", window_json(history.window(now, kTrafficSamplePeriod))},
      {"5m", window_json(history.window(now, std::chrono::minutes(5)))},
      {"60m", window_json(history.window(now, std::chrono::minutes(60)))},
  };
  json::array samples;
  for (const TrafficSample& t : history.samples()) samples.push_back(sample_json(t));
  doc["history"] = json::object{
      {"period_seconds", kTrafficSamplePeriod.count()},
      {"fields", json::array{"time_ms", "requests", "memory_hits", "disk_hits", "revalidated",
                             "misses", "errors", "bytes_from_cache", "bytes_from_origin"}},
      {"samples", std::move(samples)},
      {"current", sample_json(now)},
  };
  doc["top_hosts"] = json::object{
      {"by_requests", hosts_json(services.shared.top_hosts.by_requests(kTopHostsShown))},
      {"by_bytes_saved", hosts_json(services.shared.top_hosts.by_bytes_saved(kTopHostsShown))},
  };
}

}  // namespace

bool local_page_allowed(std::string_view path, const AccessDecision& admin_access) {
  std::string_view route = path.substr(0, path.find('?'));
  return admin_access.allowed || route == "/proxy.pac" || route == "/wpad.dat";
}

SimpleResponse admin_denied(std::string_view client, const AccessDecision& admin_access) {
  return make_error(http::status::forbidden,
                    fmt::format("your address {} may not see this proxy's own pages (admin_access "
                                "rule '{}'); add it to admin_access in the config to allow it. "
                                "The PAC file (/proxy.pac, /wpad.dat) is open to every client.",
                                client, admin_access.rule));
}

std::string stats_json(const Services& services) {
  StatsSnapshot s = services.stats.snapshot();
  // The budgets in force now, not the session's snapshot: the live page polls over one
  // keep-alive connection that may predate a reload.
  std::shared_ptr<const Config> live = services.shared.live_config.get();
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
      {"stores_skipped", s.stores_skipped},
      {"invalidations", s.invalidations},
      {"client_connections", s.client_connections},
      {"active_connections", s.active_connections},
      {"tunnels_active", s.tunnels_active},
      {"cache",
       json::object{
           {"disk_bytes", usage.bytes},
           {"disk_entries", usage.entries},
           {"disk_budget_bytes", live->cache_size},
           {"memory_bytes", services.memory.bytes()},
           {"memory_entries", services.memory.entries()},
           {"memory_budget_bytes", live->memory_cache_size},
           {"corrupt_erased", store.corrupt_erased},
           {"evictions", store.evictions},
           {"evicted_bytes", store.evicted_bytes},
           {"disk_file_bytes", usage.body_file_bytes},
           {"segments_collected", store.segments_collected},
           {"collected_bytes_copied", store.collected_bytes_copied},
       }},
  };
  add_live_figures(doc, services, s);
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
    r.content_type = "text/html; charset=utf-8";
    r.body = std::string(kLivePage);
    return r;
  }
  return make_error(http::status::not_found,
                    fmt::format("no local page {}; this is a proxy: send absolute URLs", route));
}

}  // namespace cacheproxy
