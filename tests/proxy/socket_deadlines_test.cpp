// The coarse deadlines of the client side's every-request waits (proxy/socket_deadlines.hpp):
// on real loopback sockets, a pending read is cancelled once its deadline has passed, never
// before it, and not at all once disarmed; the thread's sweep loop does it in real time.
#include "proxy/socket_deadlines.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace cacheproxy;
using namespace std::chrono_literals;

namespace {

// A connected pair of loopback sockets; `server` is the one whose reads are watched.
struct SocketPair {
  explicit SocketPair(asio::io_context& ioc) : client(ioc), server(ioc) {
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    server = acceptor.accept();
  }
  tcp::socket client;
  tcp::socket server;
};

// Starts a read on `socket` that records how it ended.
void start_read(tcp::socket& socket, std::array<char, 16>& buffer,
                std::optional<boost::system::error_code>& result) {
  socket.async_read_some(asio::buffer(buffer),
                         [&result](boost::system::error_code ec, std::size_t) { result = ec; });
}

}  // namespace

TEST_CASE("a socket deadline cancels the pending read once it has passed, never before",
          "[proxy][deadlines]") {
  asio::io_context ioc;
  SocketPair pair(ioc);
  SocketDeadlines deadlines;
  const auto t0 = std::chrono::steady_clock::now();
  deadlines.sweep(t0);
  SocketDeadline deadline(deadlines, pair.server);
  deadline.expires_after(1s);
  std::array<char, 16> buffer{};
  std::optional<boost::system::error_code> result;
  start_read(pair.server, buffer, result);

  deadlines.sweep(t0 + 500ms);
  ioc.poll();
  CHECK_FALSE(result);
  deadlines.sweep(t0 + 1s);  // armed up to a tick after t0: one second may not have passed
  ioc.poll();
  CHECK_FALSE(result);
  CHECK_FALSE(deadline.expired());

  deadlines.sweep(t0 + 1s + 2 * SocketDeadlines::kTick);
  ioc.poll();
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(deadline.expired());

  // Armed again, the deadline starts afresh: data that comes in time is read.
  deadline.expires_after(1s);
  CHECK_FALSE(deadline.expired());
  result.reset();
  start_read(pair.server, buffer, result);
  asio::write(pair.client, asio::buffer("x", 1));
  ioc.restart();  // poll() stopped it when the cancelled read left it without work
  ioc.run_for(2s);
  REQUIRE(result);
  CHECK(!*result);
}

TEST_CASE("a disarmed socket deadline cancels nothing", "[proxy][deadlines]") {
  asio::io_context ioc;
  SocketPair pair(ioc);
  SocketDeadlines deadlines;
  const auto t0 = std::chrono::steady_clock::now();
  deadlines.sweep(t0);
  std::optional<SocketDeadline> deadline(std::in_place, deadlines, pair.server);
  deadline->expires_after(100ms);
  deadline->disarm();
  std::array<char, 16> buffer{};
  std::optional<boost::system::error_code> result;
  start_read(pair.server, buffer, result);
  deadlines.sweep(t0 + 10s);
  ioc.poll();
  CHECK_FALSE(result);
  CHECK_FALSE(deadline->expired());

  // Nor does one destroyed while armed: it leaves the sweep's list as it goes.
  deadline->expires_after(100ms);
  deadline.reset();
  deadlines.sweep(t0 + 20s);
  ioc.poll();
  CHECK_FALSE(result);
}

TEST_CASE("the sweep loop cancels a read past its deadline in real time", "[proxy][deadlines]") {
  asio::io_context ioc;
  SocketPair pair(ioc);
  SocketDeadlines deadlines;
  asio::co_spawn(ioc, deadlines.run(), asio::detached);
  SocketDeadline deadline(deadlines, pair.server);
  deadline.expires_after(300ms);
  std::array<char, 16> buffer{};
  std::optional<boost::system::error_code> result;
  const auto started = std::chrono::steady_clock::now();
  start_read(pair.server, buffer, result);
  while (!result && std::chrono::steady_clock::now() - started < 10s) ioc.run_one_for(1s);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(std::chrono::steady_clock::now() - started >= 300ms);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}
