#include "proxy/origin_pool.hpp"

#include <fmt/format.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>

namespace cacheproxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Asked twice per miss (taking and returning a connection): appended, not formatted.
std::string pool_key(const std::string& host, std::uint16_t port) {
  std::string key = host;
  key += ':';
  key += std::to_string(port);
  return key;
}

// How long after its release an idle connection is handed out without a look
// (IdleCheck::unless_recent). Origins keep idle connections for seconds (nginx 75 s, Apache
// httpd 5 s), so one released this recently is nearly always open; under load nearly every
// miss takes one.
constexpr auto kRecentIdle = std::chrono::milliseconds(500);

// An idle keep-alive connection the origin has closed reads as end-of-file; one with
// unexpected bytes waiting is out of step. Only a connection with nothing to read is reusable.
bool idle_connection_alive(tcp::socket& socket) {
  char byte;
  ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

ConnectError classify(const boost::system::error_code& ec) {
  if (ec == asio::error::connection_refused) return ConnectError::refused;
  if (ec == boost::beast::error::timeout || ec == asio::error::timed_out)
    return ConnectError::timed_out;
  return ConnectError::unreachable;
}

}  // namespace

unsigned connect_error_status(ConnectError error) {
  switch (error) {
    case ConnectError::denied:
      return 403;
    case ConnectError::timed_out:
      return 504;
    default:
      return 502;
  }
}

OriginPool::OriginPool(asio::io_context& ioc, const LiveConfig& config, Stats& stats)
    : ioc_(ioc), live_config_(config), stats_(stats) {}

asio::awaitable<ConnectOutcome> OriginPool::acquire(const std::string& host, std::uint16_t port,
                                                    bool fresh_only, bool check_destination,
                                                    IdleCheck idle_check) {
  if (!fresh_only) {
    if (auto idle = take_idle(pool_key(host, port), check_destination, idle_check)) {
      ConnectOutcome out;
      out.connection = std::move(idle);
      out.connection->reused = true;
      stats_.count_origin_reuse();
      co_return out;
    }
  }
  ConnectOutcome out = co_await connect(host, port);
  if (out.connection && check_destination && !out.connection->destination.allowed) {
    // RFC-wise nothing is wrong; the gateway's policy forbids this address (checked on the
    // address actually connected to, after resolving, so DNS cannot be used to sneak past).
    out.message = fmt::format("{}:{} resolves to {}, which destination_access denies ({})", host,
                              port, out.connection->peer, out.connection->destination.rule);
    out.error = ConnectError::denied;
    out.connection.reset();
  }
  co_return out;
}

asio::awaitable<ConnectOutcome> OriginPool::connect(const std::string& host, std::uint16_t port) {
  std::shared_ptr<const Config> config = live_config_.get();
  using namespace asio::experimental::awaitable_operators;
  ConnectOutcome out;
  auto deadline = std::chrono::steady_clock::now() + config->origin_connect_timeout;

  boost::beast::tcp_stream stream(ioc_);
  boost::system::error_code connect_ec;
  tcp::endpoint endpoint;
  if (std::optional<tcp::endpoint> literal = literal_endpoint(host, port)) {
    // An address: nothing to resolve.
    stream.expires_at(deadline);
    std::tie(connect_ec) = co_await stream.async_connect(*literal, use_tuple);
    endpoint = *literal;
  } else {
    const auto now = DnsCache::Clock::now();
    DnsCache::Answer cached = dns_.find(host, port, now);
    if (cached.found && cached.negative) {
      out.error = ConnectError::resolve_failed;
      out.message = fmt::format("cannot resolve {}: the name does not exist (remembered for "
                                "negative_dns_ttl)",
                                host);
      co_return out;
    }
    DnsCache::Endpoints endpoints = cached.endpoints;
    if (!cached.found) {
      // The resolver has no deadline of its own: race it against a timer.
      tcp::resolver resolver(ioc_);
      asio::steady_timer timer(ioc_, deadline);
      std::string service = std::to_string(port);
      auto raced = co_await (resolver.async_resolve(host, service, use_tuple) ||
                             timer.async_wait(use_tuple));
      if (raced.index() == 1) {
        out.error = ConnectError::timed_out;
        out.message = fmt::format("resolving {} timed out", host);
        co_return out;
      }
      auto [resolve_ec, resolved] = std::get<0>(raced);
      if (resolve_ec) {
        // Only a name that does not exist is remembered; a failing resolver is asked again.
        if (resolve_ec == asio::error::host_not_found && config->negative_dns_ttl.count() > 0)
          dns_.remember_missing(host, port, now + config->negative_dns_ttl);
        out.error = ConnectError::resolve_failed;
        out.message = fmt::format("cannot resolve {}: {}", host, resolve_ec.message());
        co_return out;
      }
      endpoints = std::move(resolved);
      if (config->positive_dns_ttl.count() > 0)
        dns_.remember(host, port, endpoints, now + config->positive_dns_ttl);
    }
    stream.expires_at(deadline);
    std::tie(connect_ec, endpoint) = co_await stream.async_connect(endpoints, use_tuple);
  }
  if (connect_ec) {
    out.error = classify(connect_ec);
    out.message = fmt::format("cannot connect to {}:{}: {}", host, port, connect_ec.message());
    co_return out;
  }
  stream.expires_never();
  stream.socket().set_option(tcp::no_delay(true));
  // A request usually goes out at once, without waiting (write_now, eager_write.hpp).
  boost::system::error_code mode_ec;
  stream.socket().non_blocking(true, mode_ec);
  AccessDecision destination = config->destination_access.decide(endpoint.address());
  out.connection = std::make_unique<OriginConnection>(
      OriginConnection{std::move(stream), false, endpoint.address().to_string(), destination});
  co_return out;
}

OriginConnectionPtr OriginPool::take_idle(const std::string& key, bool check_destination,
                                          IdleCheck idle_check) {
  std::shared_ptr<const Config> config = live_config_.get();
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& queue = it->second;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point now = Clock::now();
  const Clock::time_point oldest_allowed = now - config->origin_idle_timeout;
  const Clock::time_point recent =
      idle_check == IdleCheck::unless_recent ? now - kRecentIdle : Clock::time_point::max();
  // Most recently used first: it is the least likely to have been closed by the origin.
  while (!queue.empty()) {
    Idle idle = std::move(queue.back());
    queue.pop_back();
    bool usable = !check_destination || idle.connection->destination.allowed;
    if (usable && idle.since >= oldest_allowed &&
        (idle.since >= recent || idle_connection_alive(idle.connection->stream.socket()))) {
      if (queue.empty()) idle_.erase(it);
      return std::move(idle.connection);
    }
  }
  idle_.erase(it);
  return nullptr;
}

void OriginPool::release(const std::string& host, std::uint16_t port,
                         OriginConnectionPtr connection) {
  std::shared_ptr<const Config> config = live_config_.get();
  if (config->origin_idle_per_host == 0) return;
  auto& queue = idle_[pool_key(host, port)];
  auto oldest_allowed = std::chrono::steady_clock::now() - config->origin_idle_timeout;
  while (!queue.empty() && queue.front().since < oldest_allowed) queue.pop_front();
  if (queue.size() >= config->origin_idle_per_host) queue.pop_front();
  connection->stream.expires_never();
  queue.push_back(Idle{std::move(connection), std::chrono::steady_clock::now()});
}

void OriginPool::sweep() {
  std::shared_ptr<const Config> config = live_config_.get();
  auto oldest_allowed = std::chrono::steady_clock::now() - config->origin_idle_timeout;
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& queue = it->second;
    // Released in time order: the expired ones are at the front.
    while (!queue.empty() && queue.front().since < oldest_allowed) queue.pop_front();
    it = queue.empty() ? idle_.erase(it) : std::next(it);
  }
}

void OriginPool::clear() { idle_.clear(); }

std::size_t OriginPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, queue] : idle_) n += queue.size();
  return n;
}

}  // namespace cacheproxy
