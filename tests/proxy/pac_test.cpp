// /proxy.pac and /wpad.dat: fetched over a socket, then FindProxyForURL evaluated by Node.js
// (tests/proxy/pac_harness.js) for a table of URLs; and the PAC settings' parsing.
#include "proxy/pac.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "proxy/config.hpp"
#include "support/command.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace http = boost::beast::http;
namespace json = boost::json;

namespace {

struct PacAnswers {
  std::map<std::string, std::string> results;  // URL -> FindProxyForURL's answer
  std::vector<std::string> dns_lookups;        // names the script asked to resolve
};

PacAnswers evaluate(const std::filesystem::path& dir, const std::string& script,
                    const std::vector<std::string>& urls) {
  REQUIRE(have_program("node"));  // Debian: apt-get install nodejs
  std::string pac = (dir / "proxy.pac").string();
  std::ofstream(pac) << script;
  std::string command = "node " + shell_quote(CACHEPROXY_SOURCE_DIR "/tests/proxy/pac_harness.js") +
                        " " + shell_quote(pac);
  for (const auto& url : urls) command += " " + shell_quote(url);
  CommandResult run = run_command(command);
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  json::value document = json::parse(run.output);
  PacAnswers answers;
  for (const auto& [url, result] : document.at("results").as_object())
    answers.results[std::string(url)] = json::value_to<std::string>(result);
  for (const json::value& name : document.at("dns_lookups").as_array())
    answers.dns_lookups.push_back(json::value_to<std::string>(name));
  return answers;
}

struct Row {
  std::string url;
  std::string expected;
};

void check_table(const PacAnswers& answers, const std::vector<Row>& table) {
  for (const Row& row : table) {
    INFO(row.url);
    REQUIRE(answers.results.count(row.url) == 1);
    CHECK(answers.results.at(row.url) == row.expected);
  }
}

std::vector<std::string> urls_of(const std::vector<Row>& table) {
  std::vector<std::string> urls;
  for (const Row& row : table) urls.push_back(row.url);
  return urls;
}

cacheproxy::ConfigResult parse(std::vector<std::string> args) {
  args.insert(args.begin(), "cacheproxy");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return cacheproxy::parse_config(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("pac: /proxy.pac and /wpad.dat answer FindProxyForURL from the config", "[pac][admin]") {
  TempDir dir;
  TestProxy proxy(dir.path(),
                  [](cacheproxy::Config& c) { c.pac_proxy_address = "192.168.1.1:3128"; });
  ProxyClient client(proxy.port());
  Response pac = client.get("/proxy.pac");
  REQUIRE(pac.result_int() == 200);
  CHECK(pac[http::field::content_type] == "application/x-ns-proxy-autoconfig");
  Response wpad = client.get("/wpad.dat");
  REQUIRE(wpad.result_int() == 200);
  CHECK(wpad[http::field::content_type] == "application/x-ns-proxy-autoconfig");
  CHECK(wpad.body() == pac.body());

  const std::string proxied = "PROXY 192.168.1.1:3128; DIRECT";
  std::vector<Row> table{
      {"http://example.com/", proxied},
      {"https://example.com/", proxied},  // browsers give https URLs stripped to the origin
      {"http://www.example.com:8080/path?q=1", proxied},
      {"http://intranet/", "DIRECT"},  // plain host name
      {"http://localhost:8080/", "DIRECT"},
      {"http://app.localhost/", "DIRECT"},
      {"http://127.0.0.1/", "DIRECT"},
      {"http://127.9.9.9:631/", "DIRECT"},
      {"http://10.1.2.3/", "DIRECT"},
      {"http://172.16.0.1/", "DIRECT"},
      {"http://172.31.255.255/", "DIRECT"},
      {"http://172.32.0.1/", proxied},  // just past 172.16.0.0/12
      {"http://192.168.1.20/", "DIRECT"},
      {"https://192.168.1.20/", "DIRECT"},
      {"http://192.169.0.1/", proxied},
      {"http://8.8.8.8/", proxied},
      {"http://[::1]:8080/", "DIRECT"},
      {"http://[2001:db8::1]/", proxied},
      {"http://printer.lan/", proxied},  // a name: the proxy resolves it, not the browser
      {"ftp://ftp.example.com/pub/", "DIRECT"},
  };
  PacAnswers answers = evaluate(dir.path(), pac.body(), urls_of(table));
  check_table(answers, table);
  // Deciding never made the browser resolve a name.
  CHECK(answers.dns_lookups.empty());
}

TEST_CASE("pac: direct networks and the DIRECT fallback are configurable", "[pac]") {
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.pac_proxy_address = "proxy.lan:8080";
    c.pac_direct_networks = {boost::asio::ip::make_network_v4("10.20.0.0/16")};
    c.pac_fallback_direct = false;
  });
  ProxyClient client(proxy.port());
  Response pac = client.get("/proxy.pac");
  REQUIRE(pac.result_int() == 200);
  const std::string proxied = "PROXY proxy.lan:8080";
  std::vector<Row> table{
      {"http://example.com/", proxied},
      {"http://10.20.3.4/", "DIRECT"},
      {"http://10.21.3.4/", proxied},
      {"http://192.168.1.20/", proxied},  // no longer a direct range
      {"http://127.0.0.1/", "DIRECT"},    // loopback is always direct
      {"http://intranet/", "DIRECT"},
  };
  PacAnswers answers = evaluate(dir.path(), pac.body(), urls_of(table));
  check_table(answers, table);
  CHECK(answers.dns_lookups.empty());
}

TEST_CASE("pac: the proxy address defaults to the first non-loopback listen address", "[pac]") {
  cacheproxy::Config c;
  c.listen = {{"127.0.0.1", 3128}, {"192.168.1.1", 3128}, {"10.0.0.1", 8080}};
  CHECK(cacheproxy::pac_proxy_address(c) == "192.168.1.1:3128");
  c.listen = {{"127.0.0.1", 3128}, {"::1", 3129}};
  CHECK(cacheproxy::pac_proxy_address(c) == "127.0.0.1:3128");
  c.listen = {{"::", 3128}, {"fd00::1", 3129}};
  CHECK(cacheproxy::pac_proxy_address(c) == "[fd00::1]:3129");
  // A wildcard names no address: visible_hostname, which the LAN's DNS should resolve.
  c.listen = {{"0.0.0.0", 3128}};
  c.visible_hostname = "gateway.lan";
  CHECK(cacheproxy::pac_proxy_address(c) == "gateway.lan:3128");
  c.pac_proxy_address = "proxy.example.net:3128";
  CHECK(cacheproxy::pac_proxy_address(c) == "proxy.example.net:3128");
}

TEST_CASE("pac: settings parse, and bad values name their key", "[pac][config]") {
  cacheproxy::ConfigResult defaults = parse({});
  REQUIRE(defaults.config);
  CHECK(defaults.config->pac_proxy_address.empty());
  CHECK(defaults.config->pac_fallback_direct);
  CHECK(defaults.config->pac_direct_networks.size() == 4);

  cacheproxy::ConfigResult set =
      parse({"--pac-proxy-address=proxy.lan:3128",
             "--pac-direct-networks=10.0.0.0/8, 192.168.7.9/24", "--pac_fallback_direct=false"});
  REQUIRE(set.config);
  CHECK(set.config->pac_proxy_address == "proxy.lan:3128");
  CHECK(!set.config->pac_fallback_direct);
  REQUIRE(set.config->pac_direct_networks.size() == 2);
  CHECK(set.config->pac_direct_networks[1].to_string() == "192.168.7.0/24");  // canonical

  cacheproxy::ConfigResult none = parse({"--pac-direct-networks=none"});
  REQUIRE(none.config);
  CHECK(none.config->pac_direct_networks.empty());
  CHECK(parse({"--pac-proxy-address=[fd00::1]:3128"}).config);

  struct Bad {
    std::string flag;
    std::string key;  // the message must name it
  };
  for (const Bad& bad : {
           Bad{"--pac-proxy-address=proxy.lan", "pac_proxy_address"},
           Bad{"--pac-proxy-address=proxy lan:3128", "pac_proxy_address"},
           Bad{"--pac-proxy-address=proxy.lan:0", "pac_proxy_address"},
           Bad{"--pac-proxy-address=\"x\":1", "pac_proxy_address"},
           Bad{"--pac-direct-networks=10.0.0.0", "pac_direct_networks"},
           Bad{"--pac-direct-networks=fd00::/8", "pac_direct_networks"},
           Bad{"--pac-fallback-direct=maybe", "pac_fallback_direct"},
       }) {
    INFO(bad.flag);
    cacheproxy::ConfigResult r = parse({bad.flag});
    CHECK(!r.config);
    CHECK(r.exit_code == 1);
    CHECK(r.message.find(bad.key) != std::string::npos);
  }
}
