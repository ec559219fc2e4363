// Connections to origin servers: resolve and connect with a deadline, and keep idle
// keep-alive connections per host:port for reuse. One pool per network thread, so it needs
// no lock.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "proxy/config.hpp"
#include "proxy/dns_cache.hpp"
#include "proxy/live_config.hpp"
#include "proxy/stats.hpp"

namespace cacheproxy {

enum class ConnectError { none, resolve_failed, refused, timed_out, unreachable, denied };

struct OriginConnection {
  boost::beast::tcp_stream stream;
  bool reused = false;  // taken from the idle pool: it may have been closed by the origin
  std::string peer;     // address actually connected to, for the access log
  // destination_access's verdict on that address, decided once at connect time so a pooled
  // connection carries it to every later user.
  AccessDecision destination;
};

// The status a client gets when the origin cannot be reached: 403 for a denied destination
// (TCP_DENIED), 504 for a timeout, 502 for the rest.
unsigned connect_error_status(ConnectError error);

// Held by pointer wherever it is handed on: moving a Beast tcp_stream allocates a fresh
// implementation (with its timers) each time, and a miss handed its connection on some nine
// times between the pool, the connect outcome and the exchange.
using OriginConnectionPtr = std::unique_ptr<OriginConnection>;

// Whether acquire() looks at an idle connection before handing it out (one system call).
enum class IdleCheck {
  always,
  // Not for one released moments ago: the caller retries its request on a new connection
  // if the origin has closed that one (a bodyless request, in the Forwarder).
  unless_recent,
};

struct ConnectOutcome {
  OriginConnectionPtr connection;
  ConnectError error = ConnectError::none;
  std::string message;  // the resolver's or socket's own words
};

class OriginPool {
 public:
  // Counts connection reuse in `stats`.
  // Reads the config in force at each call, so a reload applies to the next connection.
  OriginPool(boost::asio::io_context& ioc, const LiveConfig& config, Stats& stats);

  // An idle connection to host:port if one is alive (unless fresh_only), else a new one.
  // With check_destination, a connection whose address destination_access denies is never
  // handed out: the outcome is ConnectError::denied, naming the rule.
  boost::asio::awaitable<ConnectOutcome> acquire(const std::string& host, std::uint16_t port,
                                                 bool fresh_only, bool check_destination,
                                                 IdleCheck idle_check = IdleCheck::always);
  // Keeps a connection whose last exchange ended cleanly with keep-alive.
  void release(const std::string& host, std::uint16_t port, OriginConnectionPtr connection);
  // Closes idle connections older than origin_idle_timeout, for every host (run periodically,
  // so connections to hosts never asked for again do not stay open).
  void sweep();
  // Closes every idle connection (at shutdown).
  void clear();

  std::size_t idle_count() const;

 private:
  struct Idle {
    OriginConnectionPtr connection;
    std::chrono::steady_clock::time_point since;
  };
  OriginConnectionPtr take_idle(const std::string& pool_key, bool check_destination,
                                IdleCheck idle_check);
  boost::asio::awaitable<ConnectOutcome> connect(const std::string& host, std::uint16_t port);

  boost::asio::io_context& ioc_;
  const LiveConfig& live_config_;
  Stats& stats_;
  std::unordered_map<std::string, std::deque<Idle>> idle_;
  DnsCache dns_;
};

}  // namespace cacheproxy
