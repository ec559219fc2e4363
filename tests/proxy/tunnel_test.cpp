// CONNECT tunnels over real sockets: a raw TCP echo server stands in for a TLS origin.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Echoes every byte back; on end-of-file it sends "bye" and closes, so a test can see that a
// half-close crossed the tunnel.
class EchoServer {
 public:
  EchoServer() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      boost::system::error_code ec;
      tcp::socket socket(ioc_);
      acceptor_.accept(socket, ec);
      if (ec) return;
      char buffer[4096];
      for (;;) {
        std::size_t n = socket.read_some(asio::buffer(buffer), ec);
        if (ec) break;
        asio::write(socket, asio::buffer(buffer, n), ec);
      }
      asio::write(socket, asio::buffer(std::string_view("bye")), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    });
  }
  ~EchoServer() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

tcp::socket connect_to(asio::io_context& ioc, std::uint16_t port) {
  tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  return socket;
}

// Reads up to and including the blank line that ends a response header.
std::string read_header(tcp::socket& socket) {
  std::string header;
  char c;
  while (header.find("\r\n\r\n") == std::string::npos) {
    asio::read(socket, asio::buffer(&c, 1));
    header += c;
  }
  return header;
}

std::string read_exactly(tcp::socket& socket, std::size_t n) {
  std::string data(n, '\0');
  asio::read(socket, asio::buffer(data));
  return data;
}

}  // namespace

TEST_CASE("CONNECT opens a two-way tunnel with half-close", "[proxy][tunnel]") {
  EchoServer echo;
  TempDir dir;
  TestProxy proxy(dir.path(), [&](cacheproxy::Config& c) { c.connect_ports = {echo.port()}; });
  asio::io_context ioc;
  tcp::socket socket = connect_to(ioc, proxy.port());
  std::string authority = "127.0.0.1:" + std::to_string(echo.port());
  // The first bytes of the tunnel travel with the request, as browsers send a ClientHello.
  asio::write(socket, asio::buffer("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority +
                                   "\r\n\r\nearly"));
  std::string header = read_header(socket);
  CHECK(header.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(read_exactly(socket, 5) == "early");
  std::string big(300 * 1024, 'q');
  std::thread writer([&] { asio::write(socket, asio::buffer(big)); });
  CHECK(read_exactly(socket, big.size()) == big);
  writer.join();
  socket.shutdown(tcp::socket::shutdown_send);
  // The echo server saw our end-of-file through the tunnel and answered before closing.
  std::string rest;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(rest), ec);
  CHECK(ec == asio::error::eof);
  CHECK(rest == "bye");

  auto lines = proxy.access_log_lines(1);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(" TCP_TUNNEL/200 ") != std::string::npos);
  CHECK(lines[0].find(" CONNECT " + authority + " ") != std::string::npos);
  auto stats = proxy.server().services().stats.snapshot();
  CHECK(stats.tunnels == 1);
  CHECK(stats.tunnel_bytes_to_origin == 5 + big.size());
  CHECK(stats.tunnel_bytes_to_client == 5 + big.size() + 3);
}

TEST_CASE("CONNECT to a port not in connect_ports gets 403 naming the setting", "[proxy][tunnel]") {
  TempDir dir;
  TestProxy proxy(dir.path());
  std::string reply = raw_exchange(proxy.port(), "CONNECT 127.0.0.1:25 HTTP/1.1\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 403", 0) == 0);
  CHECK(reply.find("connect_ports") != std::string::npos);
  auto lines = proxy.access_log_lines(1);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(" TCP_DENIED/403 ") != std::string::npos);
}

TEST_CASE("CONNECT to a closed port gets 502", "[proxy][tunnel]") {
  std::uint16_t closed = free_port();
  TempDir dir;
  TestProxy proxy(dir.path(), [&](cacheproxy::Config& c) { c.connect_ports = {closed}; });
  std::string reply = raw_exchange(
      proxy.port(), "CONNECT 127.0.0.1:" + std::to_string(closed) + " HTTP/1.1\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 502", 0) == 0);
}

TEST_CASE("a silent tunnel is closed after tunnel_idle_timeout", "[proxy][tunnel]") {
  EchoServer echo;
  TempDir dir;
  TestProxy proxy(dir.path(), [&](cacheproxy::Config& c) {
    c.connect_ports = {echo.port()};
    c.tunnel_idle_timeout = std::chrono::milliseconds(300);
  });
  auto start = std::chrono::steady_clock::now();
  std::string reply = raw_exchange(
      proxy.port(), "CONNECT 127.0.0.1:" + std::to_string(echo.port()) + " HTTP/1.1\r\n\r\n",
      std::chrono::seconds(10));
  CHECK(reply.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}
