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

// A plain allocator (operator new and delete) for the queued turn below. Asio serves
// std::allocator from a small per-thread cache of blocks, first fit, shared by the receives
// pending on every connection of the thread: a turn taking a receive's block there sends that
// receive to malloc, a larger block than the turn's. Not std::allocator, so not that cache.
template <class T>
struct PlainAllocator {
  using value_type = T;
  PlainAllocator() = default;
  template <class U>
  PlainAllocator(const PlainAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { ::operator delete(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PlainAllocator<U>&) const noexcept {
    return true;
  }
};

// The handler of a queued turn: it resumes the coroutine on the thread that runs the turn
// (the coroutine's own), and states an allocator and no executor of its own, so the turn is
// posted as it is (an associated executor would have it wrapped to be dispatched back).
template <class Handler>
struct TurnHandler {
  Handler handler;
  using allocator_type = PlainAllocator<void>;
  allocator_type get_allocator() const noexcept { return {}; }
  void operator()() { std::move(handler)(); }
};

// Awaited, lets the thread's other ready work run first: after a response went out at once, a
// connection takes its turn at the back of the queue, as it did when the write's completion
// was queued. By then its client has usually sent the next request, which the next read then
// takes with one receive, instead of finding nothing, waiting for the poller and receiving
// again.
inline auto yield_turn(const boost::asio::any_io_executor& executor) {
  return boost::asio::async_initiate<const boost::asio::deferred_t&, void()>(
      [executor](auto handler) {
        // Posted to the io_context's own executor, which takes the allocator (the type-erased
        // one ignores it).
        if (const auto* own = executor.target<boost::asio::io_context::executor_type>()) {
          boost::asio::post(*own, TurnHandler<decltype(handler)>{std::move(handler)});
        } else {
          boost::asio::post(executor, std::move(handler));
        }
      },
      boost::asio::deferred);
}

}  // namespace cacheproxy
