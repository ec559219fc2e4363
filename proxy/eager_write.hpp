// Writing to a socket without waiting when the kernel can take the bytes now. An awaited
// asynchronous write always suspends the coroutine, even when its first send took everything:
// the completion is queued and runs on a later turn of the event loop. Under load that turn
// comes after every other ready connection's request, so each request's coroutine frames are
// all alive at once and too many for Asio's per-thread frame cache (a malloc and a free per
// frame per request). Written at once, a request finishes without suspending, and its frames
// go back to the cache before the next connection's request takes them.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>

#include "proxy/handler_memory.hpp"

namespace cacheproxy {

// Sends as much of `buffers` as the socket takes now, with one system call and no wait, and
// returns the bytes sent. Sets `ec` only for a real error: "would block" is not one (the rest
// is left for an asynchronous write). A socket not in non-blocking mode is left alone (a
// synchronous send there could block the thread): nothing is sent.
template <class ConstBufferSequence>
std::size_t write_now(boost::asio::ip::tcp::socket& socket, const ConstBufferSequence& buffers,
                      boost::system::error_code& ec) {
  ec = {};
  if (!socket.non_blocking()) return 0;
  const std::size_t sent = socket.write_some(buffers, ec);
  if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
    ec = {};
    return 0;
  }
  return sent;
}

// The handler of a queued turn: it resumes the coroutine on the thread that runs the turn
// (the coroutine's own), and states an allocator and no executor of its own, so the turn is
// posted as it is (an associated executor would have it wrapped to be dispatched back). The
// allocator is the connection's HandlerMemory, or operator new without one: not
// std::allocator, whose per-thread cache the receives pending on every connection share (a
// turn taking a receive's block there sent that receive to malloc).
template <class Handler>
struct TurnHandler {
  Handler handler;
  HandlerMemory* memory;
  using allocator_type = HandlerAllocator<void>;
  allocator_type get_allocator() const noexcept { return allocator_type(memory); }
  void operator()() { std::move(handler)(); }
};

// Awaited, lets the thread's other ready work run first: after a response went out at once, a
// connection takes its turn at the back of the queue, as it did when the write's completion
// was queued. By then its client has usually sent the next request, which the next read then
// takes with one receive, instead of finding nothing, waiting for the poller and receiving
// again. `memory`, when given, holds the queued turn.
inline auto yield_turn(const boost::asio::any_io_executor& executor,
                       HandlerMemory* memory = nullptr) {
  return boost::asio::async_initiate<const boost::asio::deferred_t&, void()>(
      [executor, memory](auto handler) {
        // Posted to the io_context's own executor, which takes the allocator (the type-erased
        // one ignores it).
        if (const auto* own = executor.target<boost::asio::io_context::executor_type>()) {
          boost::asio::post(*own, TurnHandler<decltype(handler)>{std::move(handler), memory});
        } else {
          boost::asio::post(executor, std::move(handler));
        }
      },
      boost::asio::deferred);
}

}  // namespace cacheproxy
