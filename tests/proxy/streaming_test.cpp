// Bodies stream with bounded memory, in both directions.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace asio = boost::asio;

TEST_CASE("a 100 MB body streams through with bounded memory", "[proxy][streaming]") {
  constexpr std::uint64_t kBody = 100ull * 1000 * 1000;
  OriginServer origin([](const OriginRequest&) {
    OriginResponse r;
    r.generated_bytes = kBody;
    r.headers = {{"Cache-Control", "max-age=3600"}};
    return r;
  });
  TempDir dir;
  // Larger than maximum_object_size: streamed through, not stored.
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.maximum_object_size = 8 << 20; });

  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), proxy.port()});
  std::string request = "GET " + origin.url("/huge") + " HTTP/1.1\r\nHost: x\r\n\r\n";
  asio::write(socket, asio::buffer(request));

  std::uint64_t before = resident_bytes();
  std::uint64_t peak = before;
  std::uint64_t received = 0;
  std::vector<char> buffer(256 * 1024);
  std::string head;
  bool in_body = false;
  std::uint64_t body = 0;
  while (body < kBody) {
    boost::system::error_code ec;
    std::size_t n = socket.read_some(asio::buffer(buffer), ec);
    REQUIRE_FALSE(ec);
    received += n;
    if (!in_body) {
      head.append(buffer.data(), n);
      auto end = head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      in_body = true;
      body = head.size() - end - 4;
      REQUIRE(head.rfind("HTTP/1.1 200", 0) == 0);
    } else {
      body += n;
    }
    if (received % (8 << 20) < n) peak = std::max(peak, resident_bytes());
  }
  CHECK(body == kBody);
  // Proxy and origin run in this process: neither may hold the body.
  CHECK(peak - before < 40ull * 1024 * 1024);
  CHECK(proxy.server().services().store.usage().entries == 0);
}

TEST_CASE("a body of known length is relayed as it arrives and stored whole",
          "[proxy][streaming][cache]") {
  // An origin that sends the header with the body's first half, waits, then sends the rest:
  // the client must see the first half before the origin sends the second (the proxy does
  // not hold a piece back to fill its buffer), and the whole body is stored.
  asio::io_context origin_ioc;
  asio::ip::tcp::acceptor acceptor(origin_ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const std::uint16_t origin_port = acceptor.local_endpoint().port();
  const std::string first(6000, 'a');
  const std::string second(4000, 'b');
  std::atomic<bool> first_seen{false};
  std::atomic<bool> second_sent_early{false};
  std::thread origin([&] {
    asio::ip::tcp::socket s(origin_ioc);
    acceptor.accept(s);
    std::string request;
    std::array<char, 4096> in{};
    while (request.find("\r\n\r\n") == std::string::npos) {
      request.append(in.data(), s.read_some(asio::buffer(in)));
    }
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\nCache-Control: max-age=3600\r\n\r\n";
    asio::write(s, asio::buffer(head + first));
    // Wait (up to 5 s) for the client to have the first half.
    for (int i = 0; i < 500 && !first_seen; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    second_sent_early = !first_seen;
    asio::write(s, asio::buffer(second));
  });

  TempDir dir;
  TestProxy proxy(dir.path());
  const std::string url = "http://127.0.0.1:" + std::to_string(origin_port) + "/halves";
  {
    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), proxy.port()});
    asio::write(socket, asio::buffer("GET " + url + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got;
    std::array<char, 16384> buffer{};
    auto body_bytes = [&got] {
      const std::size_t end = got.find("\r\n\r\n");
      return end == std::string::npos ? 0 : got.size() - end - 4;
    };
    while (body_bytes() < first.size())
      got.append(buffer.data(), socket.read_some(asio::buffer(buffer)));
    first_seen = true;
    while (body_bytes() < first.size() + second.size())
      got.append(buffer.data(), socket.read_some(asio::buffer(buffer)));
    const std::size_t body_at = got.find("\r\n\r\n") + 4;
    CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(got.substr(body_at) == first + second);
  }
  origin.join();
  acceptor.close();  // a second trip to the origin is refused at once
  CHECK_FALSE(second_sent_early);
  // Stored whole: the repeat is a hit with the same bytes, and the origin is not asked again.
  ProxyClient client(proxy.port());
  Response again = client.get(url);
  CHECK(again.result_int() == 200);
  CHECK(again.body() == first + second);
  CHECK(proxy.server().services().stats.snapshot().stores == 1);
}
