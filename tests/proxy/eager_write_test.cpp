// Writing without waiting (proxy/eager_write.hpp) on real loopback sockets: write_now sends
// what the kernel takes and never blocks, write_whole_object sends a body larger than the
// socket takes whole (the rest once the client reads), and yield_turn lets queued work run
// before the coroutine goes on.
#include "proxy/eager_write.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cache/cached_object.hpp"
#include "proxy/whole_object_response.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace cacheproxy;

namespace {

// A connected pair on loopback: `server` is the proxy's side, `client` the browser's.
struct SocketPair {
  asio::io_context ioc;
  tcp::socket server{ioc};
  tcp::socket client{ioc};

  SocketPair() {
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    server = acceptor.accept();
  }
};

std::string read_exactly(tcp::socket& socket, std::size_t size) {
  std::string out(size, '\0');
  asio::read(socket, asio::buffer(out));
  return out;
}

}  // namespace

TEST_CASE("write_now sends at once on a non-blocking socket and leaves a blocking one alone",
          "[eager_write]") {
  SocketPair pair;
  boost::system::error_code ec;

  // Blocking mode: a synchronous send could block the thread, so nothing is sent.
  REQUIRE_FALSE(pair.server.non_blocking());
  CHECK(write_now(pair.server, asio::buffer(std::string_view("lost")), ec) == 0);
  CHECK_FALSE(ec);

  pair.server.non_blocking(true);
  const std::string pieces[] = {"hello, ", "world"};
  const std::vector<asio::const_buffer> buffers{asio::buffer(pieces[0]), asio::buffer(pieces[1])};
  CHECK(write_now(pair.server, buffers, ec) == 12);
  CHECK_FALSE(ec);
  // The first bytes the client gets are these: the blocking attempt sent nothing.
  CHECK(read_exactly(pair.client, 12) == "hello, world");
}

TEST_CASE("write_now stops at a full send buffer without an error", "[eager_write]") {
  SocketPair pair;
  pair.server.set_option(asio::socket_base::send_buffer_size(16 * 1024));
  pair.client.set_option(asio::socket_base::receive_buffer_size(16 * 1024));
  pair.server.non_blocking(true);
  const std::string big(8 * 1024 * 1024, 'x');
  boost::system::error_code ec;
  const std::size_t first = write_now(pair.server, asio::buffer(big), ec);
  CHECK_FALSE(ec);
  CHECK(first > 0);
  CHECK(first < big.size());
  // Nothing more fits until the client reads: "would block" is no error, and nothing is sent.
  std::size_t more = 0;
  for (int i = 0; i < 10 && more == 0; ++i) more = write_now(pair.server, asio::buffer(big), ec);
  CHECK_FALSE(ec);
  // A peer that is gone is a real error.
  pair.client.close();
  for (int i = 0; i < 100 && !ec; ++i) {
    write_now(pair.server, asio::buffer(big), ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(ec);
}

TEST_CASE("write_whole_object sends a body larger than the socket takes, the rest as read",
          "[eager_write]") {
  SocketPair pair;
  pair.server.set_option(asio::socket_base::send_buffer_size(16 * 1024));
  pair.server.non_blocking(true);
  cache::EntryMeta meta;
  meta.status = 200;
  meta.headers.insert("Content-Type", "application/octet-stream");
  std::string body(4 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  meta.body_size = body.size();
  auto object = cache::make_cached_object(meta, body);
  WholeObjectResponse response;
  response.visible_hostname = "gateway";
  const std::string header = whole_object_header(*object, response);

  auto written = asio::co_spawn(pair.ioc, write_whole_object(pair.server, *object, response),
                                asio::use_future);
  std::string received;
  std::thread reader([&] { received = read_exactly(pair.client, header.size() + body.size()); });
  pair.ioc.run();
  reader.join();
  auto [ec, n] = written.get();
  CHECK_FALSE(ec);
  CHECK(n == header.size() + body.size());
  CHECK(received.substr(0, header.size()) == header);
  CHECK(received.substr(header.size()) == body);
}

TEST_CASE("yield_turn lets work already queued run before the coroutine goes on",
          "[eager_write]") {
  for (bool yield : {true, false}) {
    asio::io_context ioc;
    std::vector<std::string> order;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto executor = co_await asio::this_coro::executor;
          order.push_back("first half");
          asio::post(executor, [&] { order.push_back("queued"); });
          if (yield) co_await yield_turn(executor);
          order.push_back("second half");
        },
        asio::detached);
    ioc.run();
    if (yield) {
      CHECK(order == std::vector<std::string>{"first half", "queued", "second half"});
    } else {
      CHECK(order == std::vector<std::string>{"first half", "second half", "queued"});
    }
  }
}
