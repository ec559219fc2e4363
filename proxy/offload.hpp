// Runs a blocking call (a LevelDB read or write) on the store's thread pool and resumes the
// awaiting coroutine on its own executor, so network threads never block on disk.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <type_traits>
#include <utility>

namespace cacheproxy {

template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_blocking(boost::asio::thread_pool& pool, F f) {
  using Result = std::invoke_result_t<F&>;
  // co_spawn keeps the function object alive in its own frame, and its completion is
  // dispatched through the awaiting coroutine's executor.
  co_return co_await boost::asio::co_spawn(
      pool.get_executor(),
      [f = std::move(f)]() mutable -> boost::asio::awaitable<Result> { co_return f(); },
      boost::asio::use_awaitable);
}

}  // namespace cacheproxy
