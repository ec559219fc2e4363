// Reading an HTTP header: what http::async_read_header does, as one coroutine instead of two
// layers of composed operations (each with its own state allocation and work tracking). A
// client's request header is read this way for every request, and an origin's response header
// for every miss and background revalidation, so the layers were a measurable share of a
// small hit's CPU.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <utility>

#include "proxy/handler_memory.hpp"

namespace cacheproxy {

// Feeds parser from buffer, reading more from stream as needed, until the header is done or
// an error: the errors and bytes of http::async_read_header (end_of_stream if the peer closed
// before sending anything, partial_message if it closed mid-header, header_limit,
// buffer_overflow when buffer is at its max_size; a Beast stream's timeout). What is not
// consumed stays in buffer. Instantiated for a client's socket (requests) and an origin's
// Beast stream (responses). With `yield_first`, the header is read only after the thread's
// other ready work has run (yield_turn in eager_write.hpp). `memory`, when given, holds the
// turn and each read's operation (handler_memory.hpp).
template <class Stream, bool isRequest>
boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>> read_header(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::basic_parser<isRequest>& parser, bool yield_first = false,
    HandlerMemory* memory = nullptr);

extern template boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>>
read_header(boost::asio::ip::tcp::socket&, boost::beast::flat_buffer&,
            boost::beast::http::basic_parser<true>&, bool, HandlerMemory*);
extern template boost::asio::awaitable<std::pair<boost::system::error_code, std::size_t>>
read_header(boost::beast::tcp_stream&, boost::beast::flat_buffer&,
            boost::beast::http::basic_parser<false>&, bool, HandlerMemory*);

}  // namespace cacheproxy
