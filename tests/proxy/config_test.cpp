#include "proxy/config.hpp"

#include <catch2/catch.hpp>

using namespace cacheproxy;

TEST_CASE("sizes parse with and without units", "[config]") {
  struct Row {
    const char* text;
    std::optional<std::uint64_t> bytes;
  };
  for (const Row& row :
       {Row{"1024", 1024}, Row{"64MiB", 64ull << 20}, Row{"1GiB", 1ull << 30}, Row{"10KB", 10000},
        Row{"2 gib", 2ull << 30}, Row{"5m", 5ull << 20}, Row{"", std::nullopt},
        Row{"lots", std::nullopt}, Row{"12XB", std::nullopt}, Row{"-1", std::nullopt},
        Row{"99999999999999999999", std::nullopt}, Row{"18446744073709551615GiB", std::nullopt}}) {
    INFO(row.text);
    CHECK(parse_size(row.text) == row.bytes);
  }
}

TEST_CASE("durations parse with units, plain numbers are seconds", "[config]") {
  using std::chrono::milliseconds;
  CHECK(parse_duration("30") == milliseconds(30000));
  CHECK(parse_duration("250ms") == milliseconds(250));
  CHECK(parse_duration("5min") == milliseconds(300000));
  CHECK(parse_duration("2h") == milliseconds(7200000));
  CHECK_FALSE(parse_duration("soon"));
  CHECK_FALSE(parse_duration("5 fortnights"));
}

TEST_CASE("listen addresses", "[config]") {
  auto v4 = parse_listen_address("192.168.1.1:3128");
  REQUIRE(v4);
  CHECK(v4->host == "192.168.1.1");
  CHECK(v4->port == 3128);
  auto v6 = parse_listen_address("[::1]:8080");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8080);
  auto bare = parse_listen_address("3129");
  REQUIRE(bare);
  CHECK(bare->host == "127.0.0.1");
  CHECK_FALSE(parse_listen_address("example.com:80"));
  CHECK_FALSE(parse_listen_address("127.0.0.1:99999"));
  CHECK_FALSE(parse_listen_address("[::1]8080"));
}

TEST_CASE("flags override defaults and errors name the setting", "[config]") {
  const char* argv[] = {"cacheproxy",          "--listen=127.0.0.1:4000",
                        "--listen=[::1]:4001", "--cache-dir=/tmp/x",
                        "--cache_size=2GiB",   "--origin-read-timeout=5s"};
  ConfigResult r = parse_config(6, argv);
  REQUIRE(r.config);
  CHECK(r.config->listen.size() == 2);
  CHECK(r.config->listen[1].port == 4001);
  CHECK(r.config->cache_dir == "/tmp/x");
  CHECK(r.config->cache_size == (2ull << 30));
  CHECK(r.config->origin_read_timeout == std::chrono::seconds(5));

  const char* bad[] = {"cacheproxy", "--client-idle-timeout=never"};
  ConfigResult e = parse_config(2, bad);
  CHECK_FALSE(e.config);
  CHECK(e.exit_code == 1);
  CHECK(e.message.find("client_idle_timeout") != std::string::npos);

  const char* unknown[] = {"cacheproxy", "--no-such-flag=1"};
  CHECK(parse_config(2, unknown).exit_code == 1);
}

TEST_CASE("storage_nice is 5 unless set, and 0 to 19", "[config]") {
  const char* none[] = {"cacheproxy"};
  ConfigResult d = parse_config(1, none);
  REQUIRE(d.config);
  CHECK(d.config->storage_nice == 5);
  const char* zero[] = {"cacheproxy", "--storage-nice=0"};
  ConfigResult z = parse_config(2, zero);
  REQUIRE(z.config);
  CHECK(z.config->storage_nice == 0);
  const char* high[] = {"cacheproxy", "--storage-nice=20"};
  ConfigResult h = parse_config(2, high);
  CHECK_FALSE(h.config);
  CHECK(h.message.find("storage_nice") != std::string::npos);
  const char* negative[] = {"cacheproxy", "--storage-nice=-1"};
  CHECK_FALSE(parse_config(2, negative).config);
}

TEST_CASE("connect_ports takes a list", "[config]") {
  const char* argv[] = {"cacheproxy", "--connect-ports=443, 8443", "--connect-ports=563"};
  ConfigResult r = parse_config(3, argv);
  REQUIRE(r.config);
  CHECK(r.config->connect_ports == std::vector<std::uint16_t>{443, 8443, 563});
  const char* bad[] = {"cacheproxy", "--connect-ports=443,x"};
  CHECK(parse_config(2, bad).exit_code == 1);
}
