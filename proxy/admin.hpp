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

// Whether a client with this admin_access decision may fetch the local page `path`: the PAC
// file (/proxy.pac, /wpad.dat) is for every client (browsers fetch it), the rest only for
// admin_access.
bool local_page_allowed(std::string_view path, const AccessDecision& admin_access);

// The 403 for a local page admin_access keeps from `client`, naming the setting to change.
SimpleResponse admin_denied(std::string_view client, const AccessDecision& admin_access);

// Answers a local request for `path` (origin-form path and query).
SimpleResponse handle_local_request(const Services& services, boost::beast::http::verb method,
                                    std::string_view path);

}  // namespace cacheproxy
