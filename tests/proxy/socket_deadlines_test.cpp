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

// A socket pair and a deadline list whose sweeps the test makes at chosen times after t0.
struct ManualSweep {
  ManualSweep() { deadlines.sweep(t0); }

  void start_server_read() { start_read(pair.server, buffer, result); }

  // Sweeps as if `after` had passed since t0, then runs what the sweep completed.
  void sweep_after(std::chrono::steady_clock::duration after) {
    deadlines.sweep(t0 + after);
    ioc.poll();
  }

  asio::io_context ioc;
  SocketPair pair{ioc};
  SocketDeadlines deadlines;
  const std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  std::array<char, 16> buffer{};
  std::optional<boost::system::error_code> result;
};

}  // namespace

TEST_CASE_METHOD(ManualSweep,
                 "a socket deadline cancels the pending read once it has passed, never before",
                 "[proxy][deadlines]") {
  SocketDeadline deadline(deadlines, pair.server);
  deadline.expires_after(1s);
  start_server_read();

  sweep_after(500ms);
  CHECK_FALSE(result);
  sweep_after(1s);  // armed up to a tick after t0: one second may not have passed
  CHECK_FALSE(result);
  CHECK_FALSE(deadline.expired());

  sweep_after(1s + 2 * SocketDeadlines::kTick);
  REQUIRE(result);
  CHECK(*result == asio::error::operation_aborted);
  CHECK(deadline.expired());

  // Armed again, the deadline starts afresh: data that comes in time is read.
  deadline.expires_after(1s);
  CHECK_FALSE(deadline.expired());
  result.reset();
  start_server_read();
  asio::write(pair.client, asio::buffer("x", 1));
  ioc.restart();  // poll() stopped it when the cancelled read left it without work
  ioc.run_for(2s);
  REQUIRE(result);
  CHECK(!*result);
}

TEST_CASE_METHOD(ManualSweep, "a disarmed socket deadline cancels nothing", "[proxy][deadlines]") {
  std::optional<SocketDeadline> deadline(std::in_place, deadlines, pair.server);
  deadline->expires_after(100ms);
  deadline->disarm();
  start_server_read();
  sweep_after(10s);
  CHECK_FALSE(result);
  CHECK_FALSE(deadline->expired());

  // Nor does one destroyed while armed: it leaves the sweep's list as it goes.
  deadline->expires_after(100ms);
  deadline.reset();
  sweep_after(20s);
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
