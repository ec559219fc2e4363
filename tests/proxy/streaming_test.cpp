// Bodies stream with bounded memory, in both directions.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

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
