// The origin pool's DNS cache (proxy/dns_cache.hpp): answers live for their TTL, names that
// do not exist are remembered apart, the table stays bounded, and IP literals never reach
// the resolver. Plus the config that sets its TTLs.
#include "proxy/dns_cache.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

#include "proxy/config.hpp"

using namespace cacheproxy;
using namespace std::chrono_literals;
using boost::asio::ip::tcp;

namespace {

DnsCache::Endpoints endpoints_of(const std::string& address, std::uint16_t port) {
  return DnsCache::Endpoints::create(tcp::endpoint(boost::asio::ip::make_address(address), port),
                                     "host.example", std::to_string(port));
}

}  // namespace

TEST_CASE("dns cache: an answer lives until its expiry, per host and port", "[dns_cache]") {
  DnsCache cache;
  const auto t0 = DnsCache::Clock::now();
  CHECK_FALSE(cache.find("host.example", 80, t0).found);
  cache.remember("host.example", 80, endpoints_of("127.0.0.7", 80), t0 + 60s);
  DnsCache::Answer hit = cache.find("host.example", 80, t0 + 59s);
  REQUIRE(hit.found);
  CHECK_FALSE(hit.negative);
  REQUIRE(hit.endpoints.size() == 1);
  CHECK(hit.endpoints.begin()->endpoint().address().to_string() == "127.0.0.7");
  CHECK_FALSE(cache.find("host.example", 8080, t0).found);  // another port, another entry
  CHECK_FALSE(cache.find("host.example", 80, t0 + 60s).found);  // expired
  CHECK(cache.size() == 0);                                      // and dropped
}

TEST_CASE("dns cache: a name that does not exist is remembered as such", "[dns_cache]") {
  DnsCache cache;
  const auto t0 = DnsCache::Clock::now();
  cache.remember_missing("nonexistent.example", 80, t0 + 30s);
  DnsCache::Answer missing = cache.find("nonexistent.example", 80, t0 + 1s);
  CHECK(missing.found);
  CHECK(missing.negative);
  CHECK_FALSE(cache.find("nonexistent.example", 80, t0 + 31s).found);
}

TEST_CASE("dns cache: the table stays bounded", "[dns_cache]") {
  DnsCache cache;
  const auto t0 = DnsCache::Clock::now();
  for (std::size_t i = 0; i < DnsCache::kMaxEntries + 10; ++i)
    cache.remember("host" + std::to_string(i) + ".example", 80, endpoints_of("127.0.0.1", 80),
                   t0 + 1h);
  CHECK(cache.size() <= DnsCache::kMaxEntries);
  CHECK(cache.size() > 0);
}

TEST_CASE("dns cache: IP literals need no resolver", "[dns_cache]") {
  auto v4 = literal_endpoint("127.0.0.1", 8080);
  REQUIRE(v4);
  CHECK(v4->port() == 8080);
  auto v6 = literal_endpoint("::1", 80);
  REQUIRE(v6);
  CHECK(v6->address().is_v6());
  CHECK_FALSE(literal_endpoint("localhost", 80));
  CHECK_FALSE(literal_endpoint("example.com", 80));
}

TEST_CASE("dns cache TTLs: configurable, 0 switches off, negative refused", "[config][dns_cache]") {
  const char* defaults[] = {"cacheproxy"};
  ConfigResult d = parse_config(1, defaults);
  REQUIRE(d.config);
  CHECK(d.config->positive_dns_ttl == 60s);
  CHECK(d.config->negative_dns_ttl == 60s);
  const char* set[] = {"cacheproxy", "--positive-dns-ttl=5min", "--negative_dns_ttl=0"};
  ConfigResult r = parse_config(3, set);
  REQUIRE(r.config);
  CHECK(r.config->positive_dns_ttl == 300s);
  CHECK(r.config->negative_dns_ttl == 0s);
  const char* zero_timeout[] = {"cacheproxy", "--origin-read-timeout=0"};
  CHECK_FALSE(parse_config(2, zero_timeout).config);  // only the TTLs may be 0
  const char* bad[] = {"cacheproxy", "--positive-dns-ttl=-5s"};
  ConfigResult e = parse_config(2, bad);
  CHECK_FALSE(e.config);
  CHECK(e.message.find("positive_dns_ttl") != std::string::npos);
}
