// read_header (proxy/header_read.hpp) on real loopback sockets: it ends as Beast's
// http::async_read_header would, for a header in pieces, a peer that closes before or in the
// middle of one, a header over the parser's limit, and a buffer at its max_size.
#include "cache/header_fields.hpp"
#include "proxy/header_read.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using namespace cacheproxy;

namespace {

struct Outcome {
  boost::system::error_code ec;
  std::size_t consumed = 0;
  std::string left;  // what stayed in the buffer
  std::string target;
};

enum class Reader { ours, beast };

// Sends `pieces` from a peer (each its own write, a little apart, then closes if `close`),
// and reads one request header from them with read_header, or with Beast's own.
Outcome read_from(const std::vector<std::string>& pieces, bool close,
                  std::size_t header_limit = 8192, std::size_t buffer_max = 65536,
                  Reader reader = Reader::ours) {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket peer(ioc);
  peer.connect(acceptor.local_endpoint());
  tcp::socket socket = acceptor.accept();
  std::thread writer([&] {
    for (const std::string& piece : pieces) {
      asio::write(peer, asio::buffer(piece));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (close) peer.shutdown(tcp::socket::shutdown_send);
  });
  boost::beast::flat_buffer buffer(buffer_max);
  http::request_parser<http::empty_body, cacheproxy::FieldsAllocator<char>> parser;
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
  boost::system::error_code ec;
  std::size_t consumed = 0;
  if (reader == Reader::ours) {
    auto result = asio::co_spawn(ioc, read_header(socket, buffer, parser), asio::use_future);
    ioc.run();
    std::tie(ec, consumed) = result.get();
  } else {
    http::async_read_header(socket, buffer, parser,
                            [&](boost::system::error_code e, std::size_t n) {
                              ec = e;
                              consumed = n;
                            });
    ioc.run();
  }
  writer.join();
  Outcome out{ec, consumed,
              std::string(static_cast<const char*>(buffer.data().data()), buffer.size()), ""};
  if (!ec) out.target = std::string(parser.get().target());
  return out;
}

}  // namespace

TEST_CASE("read_header reads a header sent in pieces and leaves what follows it",
          "[header_read]") {
  const std::string header = "GET http://example.test/a HTTP/1.1\r\nHost: example.test\r\n\r\n";
  Outcome out = read_from({header.substr(0, 10), header.substr(10, 30), header.substr(40) + "NEXT"},
                          false);
  REQUIRE_FALSE(out.ec);
  CHECK(out.target == "http://example.test/a");
  CHECK(out.consumed == header.size());
  CHECK(out.left == "NEXT");  // the start of the next request, for the next read
}

TEST_CASE("read_header ends as Beast does when the peer closes or sends too much",
          "[header_read]") {
  const std::string long_field = "X-Long: " + std::string(2000, 'a') + "\r\n";
  struct Case {
    std::vector<std::string> pieces;
    bool close;
    std::size_t header_limit, buffer_max;
    boost::system::error_code expected;
  };
  const std::vector<Case> cases = {
      // Closed before a byte: the client went away, not a malformed request.
      {{}, true, 8192, 65536, http::error::end_of_stream},
      {{"GET http://example.test/ HTTP/1.1\r\nHo"}, true, 8192, 65536,
       http::error::partial_message},
      {{"GET http://example.test/ HTTP/1.1\r\n" + long_field + "\r\n"}, false, 1024, 65536,
       http::error::header_limit},
      // A buffer that can hold no more, before the parser's limit is reached.
      {{"GET http://example.test/ HTTP/1.1\r\n" + long_field + "\r\n"}, false, 8192, 512,
       http::error::buffer_overflow},
      {{"\x16\x03\x01 binary\r\n\r\n"}, false, 8192, 65536, http::error::bad_method},
  };
  for (const Case& c : cases) {
    INFO(c.expected.message());
    const Outcome ours = read_from(c.pieces, c.close, c.header_limit, c.buffer_max);
    const Outcome beast =
        read_from(c.pieces, c.close, c.header_limit, c.buffer_max, Reader::beast);
    CHECK(ours.ec == c.expected);
    CHECK(beast.ec == c.expected);
    CHECK(ours.consumed == beast.consumed);
    CHECK(ours.left == beast.left);
  }
}

TEST_CASE("read_header reads an origin's response header through a Beast stream, under its "
          "timeout",
          "[header_read]") {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  boost::beast::tcp_stream origin(ioc);
  origin.socket().connect(acceptor.local_endpoint());
  tcp::socket peer = acceptor.accept();
  asio::write(peer, asio::buffer(std::string_view(
                        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")));
  boost::beast::flat_buffer buffer;
  http::response_parser<http::empty_body, cacheproxy::FieldsAllocator<char>> first;
  first.skip(true);
  origin.expires_after(std::chrono::seconds(5));
  auto done = asio::co_spawn(ioc, read_header(origin, buffer, first), asio::use_future);
  ioc.run();
  auto [ec, consumed] = done.get();
  REQUIRE_FALSE(ec);
  CHECK(first.get().result_int() == 200);
  CHECK(consumed == 38);

  // The peer sends nothing more: the stream's timer ends the next read with its timeout.
  buffer.consume(buffer.size());
  http::response_parser<http::empty_body, cacheproxy::FieldsAllocator<char>> second;
  origin.expires_after(std::chrono::milliseconds(200));
  ioc.restart();
  auto timed_out = asio::co_spawn(ioc, read_header(origin, buffer, second), asio::use_future);
  ioc.run();
  CHECK(timed_out.get().first == boost::beast::error::timeout);
}

TEST_CASE("HandlerMemory lends its block to one operation at a time", "[header_read]") {
  HandlerMemory memory;
  void* first = memory.allocate(240);
  CHECK(memory.in_use());
  void* second = memory.allocate(64);  // the block is taken: operator new
  CHECK(second != first);
  void* large = HandlerAllocator<char>(&memory).allocate(4096);
  memory.deallocate(second);
  HandlerAllocator<char>(&memory).deallocate(static_cast<char*>(large), 4096);
  CHECK(memory.in_use());
  memory.deallocate(first);
  CHECK_FALSE(memory.in_use());
  CHECK(memory.allocate(256) == first);  // free again: the same block
  memory.deallocate(first);
}

TEST_CASE("a client's pending read and its turn live in the connection's HandlerMemory",
          "[header_read]") {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket peer(ioc);
  peer.connect(acceptor.local_endpoint());
  tcp::socket socket = acceptor.accept();
  HandlerMemory memory;
  boost::beast::flat_buffer buffer;
  http::request_parser<http::empty_body, cacheproxy::FieldsAllocator<char>> parser;
  auto done = asio::co_spawn(
      ioc, read_header(socket, buffer, parser, /*yield_first=*/true, &memory), asio::use_future);
  // The turn is queued in the block; then the read waits for the request, its operation there
  // too.
  ioc.poll_one();
  CHECK(memory.in_use());
  ioc.poll();
  CHECK(memory.in_use());
  CHECK(done.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
  const std::string_view request = "GET http://a.test/x HTTP/1.1\r\nHost: a\r\n\r\n";
  asio::write(peer, asio::buffer(request));
  ioc.run();
  auto [ec, consumed] = done.get();
  CHECK_FALSE(ec);
  CHECK(parser.get().target() == "http://a.test/x");
  CHECK_FALSE(memory.in_use());  // given back before the coroutine went on
}
