// Test fixtures: a temporary folder, a cacheproxy Server running in-process on a free
// loopback port with its cache in that folder, and a blocking HTTP client that talks to it
// over a real socket.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cache/header_fields.hpp"
#include "proxy/config.hpp"
#include "proxy/server.hpp"

namespace cacheproxy::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A config for tests: loopback on a free port, cache and access log under `dir`.
Config test_config(const std::filesystem::path& dir);

class TestProxy {
 public:
  explicit TestProxy(const std::filesystem::path& dir,
                     const std::function<void(Config&)>& adjust = {});
  ~TestProxy();

  std::uint16_t port() const { return server_->ports().front(); }
  Server& server() { return *server_; }
  std::filesystem::path access_log_path() const { return config_.access_log; }
  // The access log's lines, after waiting (up to 10 s) until there are at least `at_least`:
  // a line is written just after its response, so a client can see the response first.
  std::vector<std::string> access_log_lines(std::size_t at_least = 0) const;
  // The store's usage, after waiting (up to 10 s) until it holds at least `entries`: an
  // entry that replaces nothing is committed just after its response (background_commit).
  cache::StoreUsage stored_usage(std::uint64_t entries);
  void stop() { server_->stop(); }

 private:
  Config config_;
  std::unique_ptr<Server> server_;
};

using Response = boost::beast::http::response<boost::beast::http::string_body, cacheproxy::Fields>;

// A keep-alive client connection to the proxy.
class ProxyClient {
 public:
  explicit ProxyClient(std::uint16_t port);

  // Sends a request and reads the whole response. Throws on socket errors.
  Response request(boost::beast::http::verb method, const std::string& target,
                   const std::vector<std::pair<std::string, std::string>>& headers = {},
                   const std::string& body = {}, unsigned version = 11);
  Response get(const std::string& url) { return request(boost::beast::http::verb::get, url); }

  // True if the proxy has closed the connection (a read returns end-of-file).
  bool closed_by_peer();

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// Writes raw bytes on a new connection and returns everything read until the proxy closes
// it or `timeout` passes.
std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A loopback port nothing listens on right now: bound to 0, noted and closed again.
std::uint16_t free_port();

// Resident set size of this process, in bytes.
std::uint64_t resident_bytes();

}  // namespace cacheproxy::testing
