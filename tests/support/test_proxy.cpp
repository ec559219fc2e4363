#include "support/test_proxy.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include "cache/header_fields.hpp"

namespace cacheproxy::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;

TempDir::TempDir() {
  std::random_device random;
  path_ = std::filesystem::temp_directory_path() /
          ("cacheproxy-test-" + std::to_string(random()) + std::to_string(random()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Config test_config(const std::filesystem::path& dir) {
  Config c;
  c.listen = {{"127.0.0.1", 0}};
  c.cache_dir = (dir / "cache").string();
  c.access_log = (dir / "access.log").string();
  c.threads = 2;
  c.cache_size = 256ull << 20;
  c.memory_cache_size = 32ull << 20;
  return c;
}

TestProxy::TestProxy(const std::filesystem::path& dir, const std::function<void(Config&)>& adjust)
    : config_(test_config(dir)) {
  if (adjust) adjust(config_);
  server_ = std::make_unique<Server>(config_);
  std::string error = server_->start();
  if (!error.empty()) throw std::runtime_error(error);
}

TestProxy::~TestProxy() { server_->stop(); }

std::vector<std::string> TestProxy::access_log_lines(std::size_t at_least) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    std::ifstream in(config_.access_log);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() >= at_least || std::chrono::steady_clock::now() > deadline) return lines;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

cache::StoreUsage TestProxy::stored_usage(std::uint64_t entries) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    cache::StoreUsage usage = server_->services().store.usage();
    if (usage.entries >= entries || std::chrono::steady_clock::now() > deadline) return usage;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

namespace {

void set_receive_timeout(tcp::socket& socket, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

ProxyClient::ProxyClient(std::uint16_t port) : socket_(ioc_) {
  socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  // Asio's blocking reads ignore SO_RCVTIMEO; the ctest TIMEOUT ends a hung test.
}

Response ProxyClient::request(http::verb method, const std::string& target,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body, unsigned version) {
  http::request<http::string_body, cacheproxy::Fields> req{method, target, version};
  for (const auto& [name, value] : headers) req.insert(name, value);  // repeats stay separate lines
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    req.body() = body;
    req.prepare_payload();
  }
  http::write(socket_, req);
  // Interim 1xx responses (100 Continue, 103 Early Hints) precede the final one: skip them.
  for (;;) {
    http::response_parser<http::string_body, cacheproxy::FieldsAllocator<char>> parser;
    parser.body_limit(1ull << 30);
    if (method == http::verb::head) parser.skip(true);
    http::read(socket_, buffer_, parser);
    unsigned status = parser.get().result_int();
    if (status / 100 != 1 || status == 101) return parser.release();
  }
}

bool ProxyClient::closed_by_peer() {
  char byte;
  set_receive_timeout(socket_, std::chrono::seconds(5));
  ssize_t n = ::recv(socket_.native_handle(), &byte, 1, 0);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

std::string raw_exchange(std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  set_receive_timeout(socket, timeout);
  asio::write(socket, asio::buffer(bytes));
  // Plain recv: Asio's blocking read would wait out SO_RCVTIMEO by polling again.
  std::string received;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(socket.native_handle(), buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  return received;
}

std::uint16_t free_port() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

std::uint64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace cacheproxy::testing
