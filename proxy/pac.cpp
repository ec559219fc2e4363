#include "proxy/pac.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <iterator>

#include "proxy/version.hpp"

namespace cacheproxy {

namespace ip = boost::asio::ip;

namespace {

// Browsers connecting to the proxy's own host name would reach themselves, so loopback is
// always direct, whatever pac_direct_networks says.
const ip::network_v4 kLoopback = ip::make_network_v4("127.0.0.0/8");

// A JavaScript string literal. JSON's string syntax is a subset of JavaScript's, so a JSON
// serializer quotes and escapes correctly.
std::string js_string(std::string_view text) {
  return boost::json::serialize(boost::json::string(text));
}

std::string host_port(const ListenAddress& listen) {
  boost::system::error_code ec;
  ip::address address = ip::make_address(listen.host, ec);
  bool v6 = !ec && address.is_v6();
  return v6 ? fmt::format("[{}]:{}", listen.host, listen.port)
            : fmt::format("{}:{}", listen.host, listen.port);
}

}  // namespace

std::string pac_proxy_address(const Config& config) {
  if (!config.pac_proxy_address.empty()) return config.pac_proxy_address;
  const ListenAddress* loopback = nullptr;
  for (const ListenAddress& listen : config.listen) {
    boost::system::error_code ec;
    ip::address address = ip::make_address(listen.host, ec);
    // A wildcard (0.0.0.0, ::) is no address a browser can connect to.
    if (ec || address.is_unspecified()) continue;
    if (!address.is_loopback()) return host_port(listen);
    if (!loopback) loopback = &listen;
  }
  if (loopback) return host_port(*loopback);
  std::uint16_t port = config.listen.empty() ? 0 : config.listen.front().port;
  return fmt::format("{}:{}", config.visible_hostname, port);
}

std::string proxy_auto_config(const Config& config) {
  std::string networks;
  auto out = std::back_inserter(networks);
  std::vector<ip::network_v4> direct{kLoopback};
  for (const ip::network_v4& net : config.pac_direct_networks) {
    if (std::find(direct.begin(), direct.end(), net) == direct.end()) direct.push_back(net);
  }
  for (std::size_t i = 0; i < direct.size(); ++i) {
    fmt::format_to(out, "{}isInNet(host, {}, {})", i == 0 ? "" : " ||\n       ",
                   js_string(direct[i].network().to_string()),
                   js_string(direct[i].netmask().to_string()));
  }
  std::string proxy = fmt::format("PROXY {}", pac_proxy_address(config));
  // The browser tries each entry in order: with DIRECT last, it browses without the proxy
  // while the proxy is down, instead of failing every page.
  if (config.pac_fallback_direct) proxy += "; DIRECT";
  std::string always;
  for (const std::string& host : config.pac_proxy_hosts)
    fmt::format_to(std::back_inserter(always), "{}host == {}", always.empty() ? "" : " || ",
                   js_string(host));
  std::string proxied_first =
      always.empty() ? std::string()
                     : fmt::format(
                           "  // pac_proxy_hosts: through the proxy, whatever follows.\n"
                           "  if ({}) return {};\n",
                           always, js_string(proxy));
  std::string direct_hosts;
  for (const std::string& pattern : config.pac_direct_hosts)
    fmt::format_to(std::back_inserter(direct_hosts), "{}shExpMatch(host, {})",
                   direct_hosts.empty() ? "" : " || ", js_string(pattern));
  if (!direct_hosts.empty())
    proxied_first += fmt::format(
        "  // pac_direct_hosts: the LAN's own domains.\n"
        "  if ({}) return \"DIRECT\";\n",
        direct_hosts);

  return fmt::format(
      R"(// Proxy auto-config for cacheproxy {version}, generated from its configuration
// (pac_proxy_address, pac_direct_networks, pac_fallback_direct): change those, not this file.
function FindProxyForURL(url, host) {{
  // The proxy speaks HTTP and CONNECT only: other schemes (ftp:, ...) go direct.
  if (!shExpMatch(url, "http:*") && !shExpMatch(url, "https:*")) return "DIRECT";
{proxied_first}  // Names without a dot are intranet hosts; localhost is the browser's own machine.
  if (isPlainHostName(host) || dnsDomainIs(host, ".localhost")) return "DIRECT";
  // IPv4 literals in loopback and in the LAN's own ranges go direct. Only literals are
  // tested: isInNet on a name makes the browser wait for a DNS lookup on every request, so
  // names go to the proxy, which resolves them itself.
  if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host) &&
      ({networks}))
    return "DIRECT";
  // IPv6 loopback, with or without the brackets of the URL's form.
  if (host == "::1" || host == "[::1]") return "DIRECT";
  return {proxy};
}}
)",
      fmt::arg("version", kVersion), fmt::arg("networks", networks),
      fmt::arg("proxy", js_string(proxy)), fmt::arg("proxied_first", proxied_first));
}

}  // namespace cacheproxy
