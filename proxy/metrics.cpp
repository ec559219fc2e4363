#include "proxy/metrics.hpp"

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <iterator>

#include "proxy/version.hpp"

namespace cacheproxy {

namespace {

constexpr std::string_view kTcpPrefix = "TCP_";

// A label value in the exposition format: backslash, double quote and newline escaped.
std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

double seconds(std::chrono::microseconds us) { return std::chrono::duration<double>(us).count(); }

// Writes the text format, one family at a time: HELP and TYPE, then its samples.
class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(text_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }
  // `labels` is empty or a ready label list such as `source="cache"`.
  void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    fmt::format_to(std::back_inserter(text_), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{",
                   labels, labels.empty() ? "" : "}", value);
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    fmt::format_to(std::back_inserter(text_), "{}{}{}{} {}\n", name, labels.empty() ? "" : "{",
                   labels, labels.empty() ? "" : "}", value);
  }
  // A family with a single unlabelled sample.
  template <typename Value>
  void single(std::string_view name, std::string_view type, std::string_view help, Value value) {
    family(name, type, help);
    sample(name, "", value);
  }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string result_label(ResultCode code) {
  std::string_view name = to_string(code);
  if (name.starts_with(kTcpPrefix)) name.remove_prefix(kTcpPrefix.size());
  std::string label(name);
  for (char& c : label) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return label;
}

std::string render_metrics(const Services& services) {
  StatsSnapshot s = services.stats.snapshot();
  cache::StoreUsage usage = services.store.usage();
  cache::StoreCounters store = services.store.counters();
  Exposition out;

  // Only combinations that occurred: a series appears with its first request.
  out.family("cacheproxy_requests_total", "counter",
             "Requests answered, by Squid result code (hit = disk, mem_hit = memory tier, none = "
             "answered by the proxy itself) and method");
  for (std::size_t r = 0; r < kResultCodeCount; ++r) {
    std::string result = result_label(static_cast<ResultCode>(r));
    for (std::size_t m = 0; m < kMethodSlots; ++m) {
      std::uint64_t n = s.requests_by_result[r][m];
      if (n == 0) continue;
      out.sample("cacheproxy_requests_total",
                 fmt::format("result=\"{}\",method=\"{}\"", escape_label(result),
                             escape_label(method_name(m))),
                 n);
    }
  }

  out.family("cacheproxy_response_bytes_total", "counter",
             "Response body bytes sent to clients, by where they came from");
  out.sample("cacheproxy_response_bytes_total", "source=\"cache\"", s.bytes_from_cache);
  out.sample("cacheproxy_response_bytes_total", "source=\"origin\"", s.bytes_from_origin);

  out.family("cacheproxy_tunnel_bytes_total", "counter",
             "Bytes relayed through CONNECT tunnels, by direction");
  out.sample("cacheproxy_tunnel_bytes_total", "direction=\"to_origin\"", s.tunnel_bytes_to_origin);
  out.sample("cacheproxy_tunnel_bytes_total", "direction=\"to_client\"", s.tunnel_bytes_to_client);

  // The format's buckets are cumulative and end with +Inf, which equals _count.
  constexpr std::string_view duration = "cacheproxy_request_duration_seconds";
  out.family(duration, "histogram",
             "Time from a request's header being read to its access-log line (for a CONNECT "
             "tunnel: its whole life)");
  const DurationHistogram& h = s.request_durations;
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kDurationBuckets.size(); ++b) {
    cumulative += h.counts[b];
    out.sample(fmt::format("{}_bucket", duration),
               fmt::format("le=\"{}\"", seconds(kDurationBuckets[b])), cumulative);
  }
  cumulative += h.counts.back();
  out.sample(fmt::format("{}_bucket", duration), "le=\"+Inf\"", cumulative);
  out.sample(fmt::format("{}_sum", duration), "", seconds(h.sum));
  out.sample(fmt::format("{}_count", duration), "", cumulative);

  out.family("cacheproxy_cache_objects", "gauge", "Objects stored, by cache tier");
  out.sample("cacheproxy_cache_objects", "tier=\"disk\"", usage.entries);
  out.sample("cacheproxy_cache_objects", "tier=\"memory\"", services.memory.entries());
  out.family("cacheproxy_cache_bytes", "gauge",
             "Bytes stored (bodies, metadata and keys), by cache tier");
  out.sample("cacheproxy_cache_bytes", "tier=\"disk\"", usage.bytes);
  out.sample("cacheproxy_cache_bytes", "tier=\"memory\"", services.memory.bytes());
  out.family("cacheproxy_cache_budget_bytes", "gauge",
             "Configured byte budget, by cache tier (cache_size, memory_cache_size)");
  out.sample("cacheproxy_cache_budget_bytes", "tier=\"disk\"",
             services.shared.live_config.get()->cache_size);
  out.sample("cacheproxy_cache_budget_bytes", "tier=\"memory\"",
             services.shared.live_config.get()->memory_cache_size);
  out.single("cacheproxy_cache_evictions_total", "counter",
             "Disk cache entries evicted to stay within cache_size", store.evictions);
  out.single("cacheproxy_cache_evicted_bytes_total", "counter",
             "Bytes freed by disk cache evictions", store.evicted_bytes);
  out.single("cacheproxy_cache_body_file_bytes", "gauge",
             "Disk space of the body segment files, garbage not yet collected included",
             usage.body_file_bytes);
  out.single("cacheproxy_cache_segments_collected_total", "counter",
             "Body segment files deleted after their live bytes were copied out",
             store.segments_collected);
  out.single("cacheproxy_cache_collected_bytes_copied_total", "counter",
             "Live body bytes copied by the segment collector", store.collected_bytes_copied);
  out.single("cacheproxy_cache_corrupt_erased_total", "counter",
             "Undecodable or damaged disk entries erased instead of served", store.corrupt_erased);
  out.single("cacheproxy_cache_stores_total", "counter", "Responses committed to the cache",
             s.stores);
  out.single("cacheproxy_cache_store_aborts_total", "counter",
             "Cache inserts given up (too large, incomplete)", s.store_aborts);
  out.single("cacheproxy_cache_stores_skipped_total", "counter",
             "Complete responses not stored because the store was behind", s.stores_skipped);
  out.single("cacheproxy_revalidations_total", "counter",
             "Conditional requests sent to origins for stale entries", s.revalidations);

  out.single("cacheproxy_origin_connections_reused_total", "counter",
             "Idle keep-alive origin connections used again instead of opening new ones",
             s.origin_connections_reused);
  out.single("cacheproxy_tunnels_active", "gauge", "CONNECT tunnels open now", s.tunnels_active);
  out.single("cacheproxy_client_connections_active", "gauge", "Client connections open now",
             s.active_connections);
  out.single("cacheproxy_client_connections_total", "counter", "Client connections accepted",
             s.client_connections);

  auto started = std::chrono::duration<double>(services.started.time_since_epoch());
  out.single("cacheproxy_start_time_seconds", "gauge", "Start time, seconds since the Unix epoch",
             started.count());
  out.family("cacheproxy_build_info", "gauge", "Always 1; the version as a label");
  out.sample("cacheproxy_build_info", fmt::format("version=\"{}\"", escape_label(kVersion)),
             std::uint64_t{1});
  return out.take();
}

}  // namespace cacheproxy
