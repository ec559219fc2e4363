// The Prometheus exposition of the counters at /metrics: text format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), counters named `_total`,
// base units (seconds, bytes), and labels from small fixed sets only: never a URL, a host or
// a client address, which would make one time series per value.
#pragma once

#include <string>
#include <string_view>

#include "proxy/services.hpp"

namespace cacheproxy {

// The Content-Type Prometheus expects for the text format.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Every metric family, with HELP and TYPE lines: request results by method, response bytes
// by source, the request duration histogram, cache size and evictions, origin connection
// reuse, active tunnels and connections, build info.
std::string render_metrics(const Services& services);

// The result label of a Squid result code: "TCP_MEM_HIT" -> "mem_hit", "NONE" -> "none".
std::string result_label(ResultCode code);

}  // namespace cacheproxy
