#include "proxy/socket_deadlines.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cacheproxy {

namespace asio = boost::asio;

void SocketDeadline::expires_after(std::chrono::steady_clock::duration timeout) {
  const auto tick = std::chrono::steady_clock::duration(SocketDeadlines::kTick);
  const auto ticks = static_cast<std::uint64_t>((std::max(timeout, timeout.zero()) + tick -
                                                 std::chrono::steady_clock::duration(1)) /
                                                tick);
  // The last sweep may be up to a tick old: one tick more keeps the wait at least `timeout`.
  expires_tick_ = owner_.now_tick_ + ticks + 1;
  expired_ = false;
  if (!hook_.is_linked()) owner_.armed_.push_back(*this);
}

SocketDeadlines::SocketDeadlines() : epoch_(std::chrono::steady_clock::now()) {}

std::uint64_t SocketDeadlines::tick_of(std::chrono::steady_clock::time_point t) const {
  return static_cast<std::uint64_t>((t - epoch_) / kTick);
}

void SocketDeadlines::sweep(std::chrono::steady_clock::time_point now) {
  now_tick_ = tick_of(now);
  for (auto it = armed_.begin(); it != armed_.end();) {
    SocketDeadline& deadline = *it;
    if (deadline.expires_tick_ > now_tick_) {
      ++it;
      continue;
    }
    it = armed_.erase(it);
    deadline.expired_ = true;
    // The pending operation's handler runs later, from the scheduler, never inside this loop.
    boost::system::error_code ignored;
    deadline.socket_.cancel(ignored);
  }
}

asio::awaitable<void> SocketDeadlines::run() {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(kTick);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    sweep(std::chrono::steady_clock::now());
  }
}

}  // namespace cacheproxy
