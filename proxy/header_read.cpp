#include "proxy/header_read.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <tuple>

#include "proxy/eager_write.hpp"
#include "proxy/exchange_helpers.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace {

// stream.async_read_some as a deferred operation whose receive operation lives in `memory`.
// (Asio 1.81 cannot bind an allocator to the deferred token itself, so it is bound to the
// handler the deferred operation is started with.)
template <class Stream>
auto read_some_in(Stream& stream, asio::mutable_buffer into, HandlerMemory& memory) {
  return asio::async_initiate<decltype(exchange::use_tuple),
                              void(boost::system::error_code, std::size_t)>(
      [&stream, into, &memory](auto handler) {
        stream.async_read_some(into, asio::bind_allocator(HandlerAllocator<void>(&memory),
                                                          std::move(handler)));
      },
      exchange::use_tuple);
}

}  // namespace

template <class Stream, bool isRequest>
asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_header(
    Stream& stream, boost::beast::flat_buffer& buffer, http::basic_parser<isRequest>& parser,
    bool yield_first, HandlerMemory* memory) {
  std::size_t consumed = 0;
  boost::system::error_code ec;
  // Here, not in the caller: this coroutine's frame is taken while the frames of the request
  // just answered are free for it to reuse, and held through the turn. A pipelined request
  // already in the buffer waits its turn too, so a client that pipelines cannot keep the
  // thread from its other connections.
  if (yield_first) co_await yield_turn(stream.get_executor(), memory);
  while (!parser.is_header_done()) {
    if (buffer.size() > 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      consumed += used;
      buffer.consume(used);
      if (ec != http::error::need_more) {
        if (ec) break;
        continue;
      }
      ec = {};
    }
    // As Beast reads: up to 64 KiB at a time, within the buffer's max_size.
    const std::size_t size = boost::beast::read_size(buffer, 65536);
    if (size == 0) {
      ec = http::error::buffer_overflow;
      break;
    }
    std::size_t n = 0;
    if (memory) {
      std::tie(ec, n) = co_await read_some_in(stream, buffer.prepare(size), *memory);
    } else {
      std::tie(ec, n) = co_await stream.async_read_some(buffer.prepare(size), exchange::use_tuple);
    }
    buffer.commit(n);
    if (ec == asio::error::eof) {
      if (!parser.got_some()) {
        ec = http::error::end_of_stream;
        break;
      }
      // Closed mid-header: the parser says what that makes of it (partial_message).
      ec = {};
      parser.put_eof(ec);
      break;
    }
    if (ec) break;
  }
  co_return std::pair{ec, consumed};
}

template asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_header(
    asio::ip::tcp::socket&, boost::beast::flat_buffer&, http::basic_parser<true>&, bool,
    HandlerMemory*);
template asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_header(
    boost::beast::tcp_stream&, boost::beast::flat_buffer&, http::basic_parser<false>&, bool,
    HandlerMemory*);

}  // namespace cacheproxy
