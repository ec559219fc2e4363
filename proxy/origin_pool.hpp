// Connections to origin servers: resolve and connect with a deadline, and keep idle
// keep-alive connections per host:port for reuse. One pool per network thread, so it needs
// no lock.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "proxy/config.hpp"

namespace cacheproxy {

enum class ConnectError { none, resolve_failed, refused, timed_out, unreachable };

struct OriginConnection {
  boost::beast::tcp_stream stream;
  bool reused = false;  // taken from the idle pool: it may have been closed by the origin
  std::string peer;     // address actually connected to, for the access log
};

struct ConnectOutcome {
  std::optional<OriginConnection> connection;
  ConnectError error = ConnectError::none;
  std::string message;  // the resolver's or socket's own words
};

class OriginPool {
 public:
  OriginPool(boost::asio::io_context& ioc, const Config& config);

  // An idle connection to host:port if one is alive (unless fresh_only), else a new one.
  boost::asio::awaitable<ConnectOutcome> acquire(const std::string& host, std::uint16_t port,
                                                 bool fresh_only);
  // A new connection, never an idle one (for a retry after a reused one failed).
  boost::asio::awaitable<ConnectOutcome> connect(const std::string& host, std::uint16_t port);
  // Keeps a connection whose last exchange ended cleanly with keep-alive.
  void release(const std::string& host, std::uint16_t port, OriginConnection connection);
  // Closes idle connections older than origin_idle_timeout, for every host (run periodically,
  // so connections to hosts never asked for again do not stay open).
  void sweep();
  // Closes every idle connection (at shutdown).
  void clear();

  std::size_t idle_count() const;

 private:
  struct Idle {
    OriginConnection connection;
    std::chrono::steady_clock::time_point since;
  };
  std::optional<OriginConnection> take_idle(const std::string& pool_key);

  boost::asio::io_context& ioc_;
  const Config& config_;
  std::unordered_map<std::string, std::deque<Idle>> idle_;
};

}  // namespace cacheproxy
