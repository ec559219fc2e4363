// Requests addressed to the proxy itself (origin-form, or a URL naming the proxy): the
// statistics as JSON at /stats, Prometheus metrics at /metrics, the PAC file at /proxy.pac and
// /wpad.dat, and a short index page. Never forwarded.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <string>
#include <string_view>

#include "proxy/services.hpp"
#include "proxy/simple_response.hpp"

namespace cacheproxy {

// The counters, store usage and uptime as a JSON document.
std::string stats_json(const Services& services);

// Answers a local request for `path` (origin-form path and query).
SimpleResponse handle_local_request(const Services& services, boost::beast::http::verb method,
                                    std::string_view path);

}  // namespace cacheproxy
