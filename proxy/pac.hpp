// Proxy auto-config: the FindProxyForURL script served at /proxy.pac and /wpad.dat (the name
// WPAD clients ask for), generated from the config so it always names the address and port
// the proxy really listens on. Pure.
#pragma once

#include <string>
#include <string_view>

#include "proxy/config.hpp"

namespace cacheproxy {

// The MIME type browsers expect for a PAC file (Netscape's original name, still the one
// Chromium and Firefox look for).
inline constexpr std::string_view kPacContentType = "application/x-ns-proxy-autoconfig";

// "host:port" the script names: pac_proxy_address if set, else the first listen address that
// is neither loopback nor a wildcard, else the first that is not a wildcard (loopback: only
// this machine's browser can use it), else visible_hostname; with that listen address's port.
std::string pac_proxy_address(const Config& config);

// The whole script: DIRECT for plain host names, localhost, IPv4 literals in loopback or in
// pac_direct_networks, and schemes the proxy does not speak; else the proxy, then (with
// pac_fallback_direct) DIRECT if it cannot be reached.
std::string proxy_auto_config(const Config& config);

}  // namespace cacheproxy
