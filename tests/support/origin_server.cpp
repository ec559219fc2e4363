#include "support/origin_server.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <thread>

#include "cache/header_fields.hpp"

namespace cacheproxy::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
}

struct OriginServer::Impl {
  Handler handler;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<OriginRequest> received;
  std::size_t connections = 0;
  std::size_t open_connections = 0;

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      {
        std::lock_guard lock(mutex);
        ++connections;
        ++open_connections;
      }
      asio::co_spawn(ioc, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    co_await serve_requests(socket);
    std::lock_guard lock(mutex);
    --open_connections;
  }

  asio::awaitable<void> serve_requests(tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body, cacheproxy::FieldsAllocator<char>> parser;
      parser.body_limit(256ull << 20);
      auto [ec, n] = co_await http::async_read(socket, buffer, parser, use_tuple);
      if (ec) co_return;
      http::request<http::string_body, cacheproxy::Fields> req = parser.release();
      OriginRequest record{std::string(req.method_string()), std::string(req.target()), req.base(),
                           req.body()};
      {
        std::lock_guard lock(mutex);
        received.push_back(record);
      }
      OriginResponse res = handler(record);
      if (res.delay.count() > 0) {
        asio::steady_timer timer(ioc, res.delay);
        co_await timer.async_wait(use_tuple);
      }
      bool keep = co_await respond(socket, req.method() == http::verb::head, res);
      if (!keep || !req.keep_alive()) {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  // Writes the response by hand, so tests control framing exactly. Returns false if the
  // connection must close.
  asio::awaitable<bool> respond(tcp::socket& socket, bool head, const OriginResponse& res) {
    std::uint64_t length = res.generated_bytes ? res.generated_bytes : res.body.size();
    std::string header = res.interim;
    header += fmt::format("HTTP/1.1 {} {}\r\n", res.status,
                                     http::obsolete_reason(static_cast<http::status>(res.status)));
    for (const auto& [name, value] : res.headers) header += fmt::format("{}: {}\r\n", name, value);
    bool bodyless = res.status == 304 || res.status == 204 || res.status / 100 == 1;
    if (res.chunked) {
      header += "Transfer-Encoding: chunked\r\n";
    } else if (!bodyless) {
      header += fmt::format("Content-Length: {}\r\n", length);
    }
    if (res.close) header += "Connection: close\r\n";
    header += "\r\n";
    auto [ec, n] = co_await asio::async_write(socket, asio::buffer(header), use_tuple);
    if (ec) co_return false;
    const bool keep = !res.close && !res.close_unannounced;
    if (head || bodyless) co_return keep;

    std::uint64_t limit = res.cut_after ? std::min<std::uint64_t>(*res.cut_after, length) : length;
    std::string piece;
    constexpr std::size_t kPiece = 64 * 1024;
    for (std::uint64_t sent = 0; sent < limit;) {
      std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(kPiece, limit - sent));
      if (res.generated_bytes) {
        piece.assign(size, static_cast<char>('a' + (sent / kPiece) % 26));
      } else {
        piece.assign(res.body, static_cast<std::size_t>(sent), size);
      }
      if (res.chunked) piece = fmt::format("{:x}\r\n{}\r\n", size, piece);
      auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(piece), use_tuple);
      if (wec) co_return false;
      sent += size;
    }
    if (res.cut_after) co_return false;
    if (res.chunked) {
      auto [wec, wn] = co_await asio::async_write(socket, asio::buffer("0\r\n\r\n", 5), use_tuple);
      if (wec) co_return false;
    }
    co_return keep;
  }
};

OriginServer::OriginServer(Handler handler, std::uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

OriginServer::~OriginServer() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t OriginServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string OriginServer::url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", port(), path);
}

std::size_t OriginServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received.size();
}

std::size_t OriginServer::request_count(const std::string& target) const {
  std::lock_guard lock(impl_->mutex);
  std::size_t n = 0;
  for (const auto& r : impl_->received) n += r.target == target;
  return n;
}

std::size_t OriginServer::connection_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections;
}

std::size_t OriginServer::open_connection_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open_connections;
}

std::vector<OriginRequest> OriginServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

OriginResponse make_response(unsigned status, std::string body,
                             std::vector<std::pair<std::string, std::string>> headers) {
  OriginResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

}  // namespace cacheproxy::testing
