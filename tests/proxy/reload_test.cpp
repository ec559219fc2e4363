// Reloading: SIGHUP to the real binary after the config file changed, an invalid file that
// keeps the running config, SIGUSR1 reopening a rotated access log, --check-config naming the
// line of an error, and Server::reload applying cache budgets at once.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/command.hpp"
#include "support/origin_server.hpp"
#include "support/proxy_process.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy;
using namespace cacheproxy::testing;

namespace {

// A config file for the binary: loopback port, cache and access log under dir, then `extra`.
void write_config(const std::filesystem::path& file, const std::filesystem::path& dir,
                  std::uint16_t port, const std::string& extra = {}) {
  std::ofstream(file) << fmt::format(
      "listen = 127.0.0.1:{}\ncache_dir = {}\naccess_log = {}\nthreads = 1\n{}", port,
      (dir / "cache").string(), (dir / "access.log").string(), extra);
}

unsigned status_of(std::uint16_t port, const std::string& target) {
  ProxyClient client(port);
  return client.get(target).result_int();
}

}  // namespace

TEST_CASE("reload: SIGHUP applies new access rules and limits to new connections",
          "[reload][binary]") {
  TempDir dir;
  std::uint16_t port = free_port();
  auto file = dir.path() / "cacheproxy.conf";
  write_config(file, dir.path(), port);
  ProxyProcess proxy(file, dir.path(), port);
  std::string long_target = "/stats?" + std::string(200, 'a');
  CHECK(status_of(port, "/stats") == 200);
  CHECK(status_of(port, long_target) == 200);
  // A connection opened before the reload keeps the config it started with.
  ProxyClient before(port);
  CHECK(before.get("/stats").result_int() == 200);

  write_config(file, dir.path(), port,
               "admin_access = deny all\nmax_request_line_size = 100\nlisten = 127.0.0.1:1\n");
  proxy.signal(SIGHUP);
  REQUIRE(proxy.wait_for_log("config reloaded"));
  CHECK(status_of(port, "/stats") == 403);
  CHECK(status_of(port, "/proxy.pac") == 200);  // open to every client, whatever admin_access
  CHECK(status_of(port, long_target) == 414);
  CHECK(before.get("/stats").result_int() == 200);
  // The second listen line would need a restart: said so, and the proxy still listens here.
  CHECK(proxy.log().find("listen changed: needs a restart") != std::string::npos);

  // An invalid file is rejected with its line and reason; the running config stays.
  write_config(file, dir.path(), port, "admin_access = allow all\ncache_size = lots\n");
  proxy.signal(SIGHUP);
  REQUIRE(proxy.wait_for_log("config rejected"));
  std::string log = proxy.log();
  INFO(log);
  CHECK(log.find(fmt::format("{}:6: cache_size: invalid size 'lots'", file.string())) !=
        std::string::npos);
  CHECK(status_of(port, "/stats") == 403);
  CHECK(status_of(port, long_target) == 414);

  // A valid file again: applied.
  write_config(file, dir.path(), port);
  proxy.signal(SIGHUP);
  REQUIRE(proxy.wait_for_log("config reloaded", 2));
  CHECK(status_of(port, "/stats") == 200);
}

TEST_CASE("reload: SIGUSR1 reopens the access log after logrotate renamed it",
          "[reload][binary][access_log]") {
  OriginServer origin([](const OriginRequest&) {
    return make_response(200, "logged", {{"Cache-Control", "max-age=60"}});
  });
  TempDir dir;
  std::uint16_t port = free_port();
  auto file = dir.path() / "cacheproxy.conf";
  write_config(file, dir.path(), port);
  ProxyProcess proxy(file, dir.path(), port);
  auto log = dir.path() / "access.log";
  auto rotated = dir.path() / "access.log.1";
  CHECK(status_of(port, origin.url("/before")) == 200);
  auto count_lines = [](const std::filesystem::path& path, const std::string& text) {
    std::ifstream in(path);
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(text) != std::string::npos;
    return n;
  };
  for (int i = 0; i < 500 && count_lines(log, "/before") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::filesystem::rename(log, rotated);
  proxy.signal(SIGUSR1);
  REQUIRE(proxy.wait_for_log("access log reopened"));
  REQUIRE(std::filesystem::exists(log));
  CHECK(status_of(port, origin.url("/after")) == 200);
  for (int i = 0; i < 500 && count_lines(log, "/after") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(count_lines(log, "/after") == 1);
  CHECK(count_lines(log, "/before") == 0);
  CHECK(count_lines(rotated, "/before") == 1);
  CHECK(count_lines(rotated, "/after") == 0);
}

TEST_CASE("reload: --check-config names the line and reason of the first error",
          "[reload][binary][config]") {
  TempDir dir;
  auto file = dir.path() / "bad.conf";
  std::string binary = CACHEPROXY_BINARY;
  auto check = [&](const std::string& text) {
    std::ofstream(file) << text;
    return run_command(binary + " --config " + shell_quote(file.string()) + " --check-config");
  };
  CommandResult size = check("# comment\nthreads = 2\ncache_size = lots\n");
  CHECK(size.exit_code == 1);
  CHECK(size.output.find(file.string() + ":3: cache_size: invalid size 'lots'") !=
        std::string::npos);
  CommandResult unknown = check("threads = 2\nno_such_setting = 1\n");
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.output.find(file.string() + ":2: ") != std::string::npos);
  CHECK(unknown.output.find("no_such_setting") != std::string::npos);
  CommandResult rule = check("client_access = allow 10.0.0.0/8\nclient_access = permit all\n");
  CHECK(rule.exit_code == 1);
  CHECK(rule.output.find(file.string() + ":2: client_access") != std::string::npos);
  CommandResult number = check("\n\nthreads = many\n");
  CHECK(number.exit_code == 1);
  CHECK(number.output.find(file.string() + ":3: ") != std::string::npos);
  CommandResult syntax = check("threads = 2\nthis line has no equals sign\n");
  CHECK(syntax.exit_code == 1);
  CHECK(syntax.output.find(file.string() + ":2: ") != std::string::npos);
  CHECK(check("threads = 2\n").exit_code == 0);
}

TEST_CASE("reload: new cache budgets and connection caps apply at once", "[reload]") {
  OriginServer origin([](const OriginRequest& req) {
    return make_response(200, std::string(100'000, 'b'),
                         {{"Cache-Control", "max-age=600"}, {"X-Path", req.target}});
  });
  TempDir dir;
  TestProxy proxy(dir.path());
  ProxyClient client(proxy.port());
  // Misses, then disk hits that promote each object to the memory tier.
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 10; ++i) client.get(origin.url(fmt::format("/object/{}", i)));
  Services& services = proxy.server().services();
  REQUIRE(services.store.usage().entries == 10);
  // A disk hit is placed in the memory tier after its response is written: wait for the last.
  for (int i = 0; i < 500 && services.memory.entries() < 10; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(services.memory.entries() == 10);

  Config smaller = *proxy.server().live_config();
  smaller.cache_size = 350'000;
  smaller.memory_cache_size = 250'000;
  smaller.max_connections = 1;
  smaller.cache_dir = (dir.path() / "elsewhere").string();
  auto notes = proxy.server().reload(smaller);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("cache_dir changed: needs a restart") != std::string::npos);
  CHECK(services.store.usage().bytes <= 350'000);
  CHECK(services.store.usage().entries == 3);
  CHECK(services.memory.bytes() <= 250'000);
  CHECK(proxy.server().live_config()->cache_dir == (dir.path() / "cache").string());
  // The open connection is the one allowed; another is refused at once, naming the cap.
  std::string refused = raw_exchange(proxy.port(), "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(refused.starts_with("HTTP/1.1 503 "));
  CHECK(refused.find("max_connections 1") != std::string::npos);
  // /stats shows the budgets in force, even on a connection opened before the reload (the
  // live page polls over one keep-alive connection).
  Response stats = client.get("/stats");
  CHECK(stats.body().find("\"disk_budget_bytes\":350000") != std::string::npos);
  CHECK(stats.body().find("\"memory_budget_bytes\":250000") != std::string::npos);
}
