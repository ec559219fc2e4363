// Coarse deadlines for the client side's every-request waits (reading a request header,
// writing a memory hit). A Beast stream timer costs each read or write a timer-queue insert,
// a cancel and a completion handler run through the scheduler: about a sixth of a memory
// hit's instructions. Arming a SocketDeadline is a few stores; once per tick the thread's
// SocketDeadlines cancels the socket of every connection past its deadline, as Traffic
// Server's inactivity cop does. A deadline fires at least its timeout after it was armed and
// at most two ticks later than that.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <cstdint>

namespace cacheproxy {

class SocketDeadlines;

using SocketDeadlineHook = boost::intrusive::list_member_hook<
    boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

// The deadline of one socket's pending operation: arm it before the operation, disarm it
// after. When it passes, the socket is cancelled and the operation completes with
// operation_aborted; expired() then tells a deadline from other cancellations.
class SocketDeadline {
 public:
  SocketDeadline(SocketDeadlines& owner, boost::asio::ip::tcp::socket& socket)
      : owner_(owner), socket_(socket) {}
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;

  void expires_after(std::chrono::steady_clock::duration timeout);
  void disarm() { hook_.unlink(); }
  bool expired() const { return expired_; }

 private:
  friend class SocketDeadlines;
  SocketDeadlines& owner_;
  boost::asio::ip::tcp::socket& socket_;
  std::uint64_t expires_tick_ = 0;
  bool expired_ = false;
  SocketDeadlineHook hook_;  // linked while armed; unlinks itself when destroyed
};

// One per network thread; every armed SocketDeadline of the thread's connections is listed in
// it. Not thread-safe: used only from its thread's io_context.
class SocketDeadlines {
 public:
  static constexpr std::chrono::milliseconds kTick{100};

  SocketDeadlines();
  SocketDeadlines(const SocketDeadlines&) = delete;
  SocketDeadlines& operator=(const SocketDeadlines&) = delete;

  // Sweeps every kTick until the io_context stops.
  boost::asio::awaitable<void> run();

  // Cancels the sockets whose deadline has passed at `now` (run() calls it every tick).
  void sweep(std::chrono::steady_clock::time_point now);

 private:
  friend class SocketDeadline;

  std::uint64_t tick_of(std::chrono::steady_clock::time_point t) const;

  std::chrono::steady_clock::time_point epoch_;
  std::uint64_t now_tick_ = 0;  // as of the last sweep: arming reads no clock
  boost::intrusive::list<
      SocketDeadline,
      boost::intrusive::member_hook<SocketDeadline, SocketDeadlineHook, &SocketDeadline::hook_>,
      boost::intrusive::constant_time_size<false>>
      armed_;
};

}  // namespace cacheproxy
