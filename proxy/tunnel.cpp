#include "proxy/tunnel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <vector>

#include "proxy/simple_response.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Bytes moved per read in each direction: bounds a tunnel's memory.
constexpr std::size_t kTunnelBufferBytes = 16 * 1024;

struct Activity {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  std::uint64_t to_origin = 0;
  std::uint64_t to_client = 0;
};

// Copies one direction until `from` reaches end-of-file or fails, then passes the close on as
// a half-close so the peer sees it too (TLS close_notify and HTTP/1.0-style bodies need it).
asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to, std::uint64_t& counter,
                           Activity& activity) {
  std::vector<char> buffer(kTunnelBufferBytes);
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buffer), use_tuple);
    if (n > 0) {
      activity.last = std::chrono::steady_clock::now();
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buffer.data(), n), use_tuple);
      counter += wn;
      if (wec) break;
    }
    if (ec) break;
  }
  boost::system::error_code ignored;
  to.shutdown(tcp::socket::shutdown_send, ignored);
}

// Returns once neither direction has moved a byte for `idle`.
asio::awaitable<void> watchdog(Activity& activity, std::chrono::milliseconds idle) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto deadline = activity.last + idle;
    if (std::chrono::steady_clock::now() >= deadline) co_return;
    timer.expires_at(deadline);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
  }
}

}  // namespace

asio::awaitable<Exchange> run_tunnel(Services& services, OriginPool& origins,
                                     beast::tcp_stream& client, beast::flat_buffer& client_buffer,
                                     const RequestTarget& target, unsigned version,
                                     bool check_destination) {
  const Config& config = services.config;
  Exchange ex;
  ex.code = ResultCode::tcp_tunnel;
  const auto& ports = config.connect_ports;
  if (std::find(ports.begin(), ports.end(), target.port) == ports.end()) {
    SimpleResponse denied = make_error(
        http::status::forbidden,
        fmt::format("CONNECT to port {} is not allowed; the connect_ports setting lists the "
                    "allowed ports (now: {})",
                    target.port, fmt::join(ports, ", ")));
    ex = co_await send_simple(client, version, false, denied, config.visible_hostname,
                              config.client_write_timeout);
    ex.code = ResultCode::tcp_denied;
    ex.keep_alive = false;
    co_return ex;
  }

  bool fresh_only = true;  // a tunnel owns its connection; it never goes back to the pool
  ConnectOutcome connected =
      co_await origins.acquire(target.host, target.port, fresh_only, check_destination);
  if (!connected.connection) {
    auto status = static_cast<http::status>(connect_error_status(connected.error));
    SimpleResponse failed = make_error(status, connected.message);
    ex = co_await send_simple(client, version, false, failed, config.visible_hostname,
                              config.client_write_timeout);
    bool denied = connected.error == ConnectError::denied;
    ex.code = denied ? ResultCode::tcp_denied : ResultCode::none;
    ex.keep_alive = false;
    if (!denied) services.stats.count_error();
    co_return ex;
  }
  tcp::socket& origin = connected.connection->stream.socket();
  ex.direct = true;
  ex.peer = connected.connection->peer;

  static constexpr std::string_view kEstablished = "HTTP/1.1 200 Connection established\r\n\r\n";
  client.expires_after(config.client_write_timeout);
  auto [ec, n] = co_await asio::async_write(client, asio::buffer(kEstablished), use_tuple);
  ex.status = 200;
  ex.bytes = n;
  ex.keep_alive = false;
  if (ec) co_return ex;
  client.expires_never();

  ActiveTunnel active(services.stats);
  Activity activity;
  if (client_buffer.size() > 0) {
    auto [wec, wn] = co_await asio::async_write(origin, client_buffer.data(), use_tuple);
    activity.to_origin += wn;
    client_buffer.consume(client_buffer.size());
    if (wec) co_return ex;
  }

  using namespace asio::experimental::awaitable_operators;
  tcp::socket& client_socket = client.socket();
  co_await ((pump(client_socket, origin, activity.to_origin, activity) &&
             pump(origin, client_socket, activity.to_client, activity)) ||
            watchdog(activity, config.tunnel_idle_timeout));

  ex.bytes += activity.to_client;
  services.stats.add_tunnel_bytes(activity.to_origin, activity.to_client);
  co_return ex;
}

}  // namespace cacheproxy
