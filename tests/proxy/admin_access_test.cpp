// admin_access: the proxy's own pages (/, /stats, /metrics) for the admin's addresses only,
// the PAC file for every client client_access allows. 127.0.0.2 plays a LAN client.
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include "proxy/config.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy;
using namespace cacheproxy::testing;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// One request with Connection: close from `source`, the answer read until the proxy closes.
std::string get_from(const std::string& source, std::uint16_t port, const std::string& path) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.open(tcp::v4());
  socket.bind(tcp::endpoint(asio::ip::make_address(source), 0));
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  timeval tv{5, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(request));
  std::string received;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(socket.native_handle(), buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  return received;
}

AccessRules rules(const std::vector<std::string>& lines) {
  AccessRules parsed;
  REQUIRE_FALSE(AccessRules::parse(lines, &parsed));
  return parsed;
}

}  // namespace

TEST_CASE("admin_access: LAN clients get the PAC file but not the live page or stats",
          "[admin][access]") {
  TempDir dir;
  TestProxy proxy(dir.path(), [](Config& c) {
    c.client_access = rules({"allow 127.0.0.0/8", "deny all"});
    c.admin_access = rules({"allow 127.0.0.1", "deny all"});
  });
  for (const char* page : {"/", "/stats", "/metrics"}) {
    INFO(page);
    std::string lan = get_from("127.0.0.2", proxy.port(), page);
    CHECK(lan.starts_with("HTTP/1.1 403 "));
    CHECK(lan.find("admin_access") != std::string::npos);
    CHECK(lan.find("127.0.0.2") != std::string::npos);
    std::string admin = get_from("127.0.0.1", proxy.port(), page);
    CHECK(admin.starts_with("HTTP/1.1 200 "));
  }
  for (const char* pac : {"/proxy.pac", "/wpad.dat"}) {
    std::string lan = get_from("127.0.0.2", proxy.port(), pac);
    CHECK(lan.starts_with("HTTP/1.1 200 "));
    CHECK(lan.find("FindProxyForURL") != std::string::npos);
  }
  // The refusal is logged as Squid logs an access-rule refusal.
  bool denied_logged = false;
  for (const auto& line : proxy.access_log_lines(8))
    denied_logged = denied_logged || (line.find("127.0.0.2 TCP_DENIED/403") != std::string::npos &&
                                      line.find("/stats") != std::string::npos);
  CHECK(denied_logged);
}

TEST_CASE("admin_access: the default allows the proxy host only", "[admin][access][config]") {
  Config c;
  CHECK(c.admin_access.decide(asio::ip::make_address("127.0.0.1")).allowed);
  CHECK(c.admin_access.decide(asio::ip::make_address("::1")).allowed);
  CHECK_FALSE(c.admin_access.decide(asio::ip::make_address("192.168.1.20")).allowed);
  const char* argv[] = {"cacheproxy", "--admin-access=allow 192.168.1.0/24",
                        "--admin_access=deny all"};
  ConfigResult parsed = parse_config(3, argv);
  REQUIRE(parsed.config);
  CHECK(parsed.config->admin_access.decide(asio::ip::make_address("192.168.1.20")).allowed);
  CHECK_FALSE(parsed.config->admin_access.decide(asio::ip::make_address("127.0.0.1")).allowed);
  const char* bad[] = {"cacheproxy", "--admin-access=allow nowhere"};
  ConfigResult error = parse_config(2, bad);
  CHECK(error.exit_code == 1);
  CHECK(error.message.find("admin_access") != std::string::npos);
}

TEST_CASE("admin_access: the live page is a self-contained HTML document", "[admin][live]") {
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  Response page = client.get("/");
  REQUIRE(page.result_int() == 200);
  CHECK(page[boost::beast::http::field::content_type] == "text/html; charset=utf-8");
  CHECK(page.body().find("<canvas id=\"chart-requests\"") != std::string::npos);
  CHECK(page.body().find("fetch(\"/stats\"") != std::string::npos);
  // No external assets: nothing is loaded from another origin.
  CHECK(page.body().find("http://") == std::string::npos);
  CHECK(page.body().find("https://") == std::string::npos);
  CHECK(page.body().find(" src=") == std::string::npos);
}
