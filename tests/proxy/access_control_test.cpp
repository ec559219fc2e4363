// Access rules: unit tables for the matcher, and denied clients and destinations over real
// sockets (a test client bound to 127.0.0.2 stands for a LAN host the rules do not admit).
#include "proxy/access_control.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy;
using namespace cacheproxy::testing;
namespace asio = boost::asio;

namespace {

asio::ip::address addr(const char* text) { return asio::ip::make_address(text); }

// Sends one request from a chosen local address and returns the raw reply.
std::string exchange_from(const char* local, std::uint16_t port, const std::string& request) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.open(asio::ip::tcp::v4());
  socket.bind({addr(local), 0});
  socket.connect({addr("127.0.0.1"), port});
  asio::write(socket, asio::buffer(request));
  std::string reply;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(reply), ec);
  return reply;
}

}  // namespace

TEST_CASE("address ranges match IPv4, IPv6 and v4-mapped addresses", "[access_control]") {
  struct Row {
    const char* range;
    const char* address;
    bool contains;
  };
  for (const Row& row : {
           Row{"10.0.0.0/8", "10.1.2.3", true},
           Row{"10.0.0.0/8", "11.0.0.1", false},
           Row{"172.16.0.0/12", "172.31.255.255", true},
           Row{"172.16.0.0/12", "172.32.0.0", false},
           Row{"192.168.1.7", "192.168.1.7", true},
           Row{"192.168.1.7", "192.168.1.8", false},
           Row{"192.168.0.0/16", "::ffff:192.168.4.4", true},
           Row{"fc00::/7", "fd12::1", true},
           Row{"fc00::/7", "fe00::1", false},
           Row{"fe80::/10", "fe80::1", true},
           Row{"::1", "::1", true},
           Row{"::1", "127.0.0.1", false},
           Row{"0.0.0.0/0", "8.8.8.8", true},
           Row{"all", "2001:db8::1", true},
           Row{"10.0.0.0/9", "10.127.255.255", true},
           Row{"10.0.0.0/9", "10.128.0.0", false},
       }) {
    INFO(row.range << " " << row.address);
    auto range = AddressRange::parse(row.range);
    REQUIRE(range);
    CHECK(range->contains(addr(row.address)) == row.contains);
  }
  for (const char* bad :
       {"", "10.0.0.0/33", "::/129", "10.0.0/8", "example.com", "10.0.0.0/x", "1.2.3.4/-1"}) {
    INFO(bad);
    CHECK_FALSE(AddressRange::parse(bad));
  }
}

TEST_CASE("rules are ordered, the first match wins, and no match denies", "[access_control]") {
  AccessRules rules;
  REQUIRE_FALSE(AccessRules::parse({"deny 10.0.0.66", "allow 10.0.0.0/8, 192.168.0.0/16"}, &rules));
  CHECK_FALSE(rules.decide(addr("10.0.0.66")).allowed);
  CHECK(rules.decide(addr("10.0.0.66")).rule == "deny 10.0.0.66");
  CHECK(rules.decide(addr("10.0.0.67")).allowed);
  CHECK(rules.decide(addr("192.168.3.3")).rule == "allow 192.168.0.0/16");
  CHECK_FALSE(rules.decide(addr("8.8.8.8")).allowed);
  CHECK(rules.decide(addr("8.8.8.8")).rule == "default deny");
  CHECK(AccessRules::parse({"permit 10.0.0.0/8"}, &rules));
  CHECK(AccessRules::parse({"allow"}, &rules));
  CHECK(AccessRules::parse({"allow 10.0.0.0/99"}, &rules));
}

TEST_CASE("the default rules admit loopback and the LAN, nobody else", "[access_control]") {
  AccessRules clients = default_client_access();
  for (const char* ok :
       {"127.0.0.1", "::1", "10.9.8.7", "172.20.0.1", "192.168.1.20", "fd00::5", "fe80::1"})
    CHECK(clients.decide(addr(ok)).allowed);
  for (const char* no : {"8.8.8.8", "172.32.0.1", "2001:db8::1", "100.64.0.1"})
    CHECK_FALSE(clients.decide(addr(no)).allowed);
  AccessRules destinations = default_destination_access();
  for (const char* no : {"127.0.0.1", "127.1.2.3", "::1", "169.254.169.254", "fe80::1"})
    CHECK_FALSE(destinations.decide(addr(no)).allowed);
  for (const char* ok : {"10.0.0.1", "93.184.216.34", "2001:db8::1"})
    CHECK(destinations.decide(addr(ok)).allowed);
}

TEST_CASE("a client the rules deny gets 403 naming the rule, and a TCP_DENIED line",
          "[proxy][access_control]") {
  OriginServer origin([](const OriginRequest&) { return make_response(200, "secret"); });
  TempDir dir;
  TestProxy proxy(dir.path(), [](Config& c) {
    REQUIRE_FALSE(AccessRules::parse({"allow 127.0.0.1", "deny 127.0.0.2"}, &c.client_access));
  });
  std::string request = "GET " + origin.url("/x") + " HTTP/1.1\r\nConnection: close\r\n\r\n";
  std::string denied = exchange_from("127.0.0.2", proxy.port(), request);
  CHECK(denied.rfind("HTTP/1.1 403", 0) == 0);
  CHECK(denied.find("deny 127.0.0.2") != std::string::npos);
  CHECK(origin.request_count() == 0);
  auto lines = proxy.access_log_lines(1);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(" 127.0.0.2 TCP_DENIED/403 ") != std::string::npos);
  // The address the rules allow is served.
  std::string allowed = exchange_from("127.0.0.1", proxy.port(), request);
  CHECK(allowed.rfind("HTTP/1.1 200", 0) == 0);
  // Default deny: an address no rule names.
  std::string unnamed = exchange_from("127.0.0.3", proxy.port(), request);
  CHECK(unnamed.find("default deny") != std::string::npos);
}

TEST_CASE("destination rules stop LAN clients reaching the proxy host's own services",
          "[proxy][access_control]") {
  OriginServer origin([](const OriginRequest&) { return make_response(200, "internal"); });
  TempDir dir;
  // 127.0.0.5 stands for a LAN client: not exempt from the destination rules.
  TestProxy proxy(dir.path(), [](Config& c) { c.destination_access_for_loopback_clients = true; });
  std::string request = "GET " + origin.url("/admin") + " HTTP/1.1\r\nConnection: close\r\n\r\n";
  std::string reply = exchange_from("127.0.0.5", proxy.port(), request);
  CHECK(reply.rfind("HTTP/1.1 403", 0) == 0);
  CHECK(reply.find("destination_access") != std::string::npos);
  CHECK(origin.request_count() == 0);
  std::string tunnel =
      exchange_from("127.0.0.5", proxy.port(),
                    "CONNECT 127.0.0.1:" + std::to_string(origin.port()) + " HTTP/1.1\r\n\r\n");
  CHECK(tunnel.rfind("HTTP/1.1 403", 0) == 0);
  auto lines = proxy.access_log_lines(2);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("TCP_DENIED/403") != std::string::npos);

  // By default a client on the proxy host itself is exempt: it could connect directly.
  TempDir other;
  TestProxy local(other.path());
  CHECK(exchange_from("127.0.0.1", local.port(), request).rfind("HTTP/1.1 200", 0) == 0);
}
