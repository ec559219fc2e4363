// The cacheproxy executable itself: flags, config checking, signals, and its access log read
// by a real Squid log analyzer (goaccess).
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "support/command.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;

namespace {

using Run = CommandResult;

std::string binary() { return CACHEPROXY_BINARY; }

}  // namespace

TEST_CASE("the binary answers its help and version and check-config flags", "[binary]") {
  Run help = run_command(binary() + " --help");
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("cache_dir") != std::string::npos);
  CHECK(help.output.find("--check-config") != std::string::npos);
  Run version = run_command(binary() + " --version");
  CHECK(version.exit_code == 0);
  CHECK(version.output.find("cacheproxy 0.") != std::string::npos);

  Run shipped = run_command(binary() + " --config " CACHEPROXY_SOURCE_DIR
                                       "/conf/cacheproxy.conf --check-config");
  CHECK(shipped.exit_code == 0);

  TempDir dir;
  std::string bad = (dir.path() / "bad.conf").string();
  std::ofstream(bad) << "cache_size = lots\n";
  Run invalid = run_command(binary() + " --config " + bad + " --check-config");
  CHECK(invalid.exit_code == 1);
  CHECK(invalid.output.find("cache_size") != std::string::npos);
  std::ofstream(bad) << "no_such_setting = 1\n";
  CHECK(run_command(binary() + " --config " + bad + " --check-config").exit_code == 1);
  CHECK(run_command(binary() + " --config /nonexistent.conf --check-config").exit_code == 1);
  // Flags override the file and take dashes or underscores.
  std::ofstream(bad) << "cache_size = lots\n";
  CHECK(
      run_command(binary() + " --config " + bad + " --cache-size=2GiB --check-config").exit_code ==
      0);
  CHECK(run_command(binary() + " --memory_cache_size=1x --check-config").exit_code == 1);
}

TEST_CASE("SIGTERM finishes an in-flight request, then the process exits cleanly", "[binary]") {
  OriginServer origin([](const OriginRequest&) {
    OriginResponse r = make_response(200, "slow but whole", {{"Cache-Control", "max-age=60"}});
    r.delay = std::chrono::milliseconds(800);
    return r;
  });
  TempDir dir;
  std::uint16_t port = free_port();
  std::string log = (dir.path() / "proxy.log").string();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stderr);
    std::string listen = fmt::format("--listen=127.0.0.1:{}", port);
    std::string cache = fmt::format("--cache-dir={}/cache", dir.path().string());
    std::string access = fmt::format("--access-log={}/access.log", dir.path().string());
    ::execl(CACHEPROXY_BINARY, "cacheproxy", listen.c_str(), cache.c_str(), access.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Wait for the listener.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    try {
      ProxyClient probe(port);
      up = true;
    } catch (...) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  REQUIRE(up);
  ProxyClient client(port);
  std::thread killer([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(pid, SIGTERM);
  });
  Response res = client.get(origin.url("/slow"));
  killer.join();
  CHECK(res.body() == "slow but whole");
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(text);
  CHECK(text.find("stopped; requests=1") != std::string::npos);
}

TEST_CASE("goaccess reads the access log as Squid's native format", "[binary][access_log]") {
  REQUIRE(run_command("command -v goaccess").exit_code == 0);  // apt-get install goaccess
  OriginServer origin([](const OriginRequest&) {
    return make_response(
        200, "for goaccess",
        {{"Cache-Control", "max-age=60"}, {"Content-Type", "text/html; charset=utf-8"}});
  });
  TempDir dir;
  {
    TestProxy proxy(dir.path());
    ProxyClient client(proxy.port());
    client.get(origin.url("/g"));
    client.get(origin.url("/g"));
    client.get(origin.url("/other"));
    REQUIRE(proxy.access_log_lines(3).size() == 3);
  }
  std::string log = (dir.path() / "access.log").string();
  auto parse = [&](const std::string& file, const std::string& format_flags) {
    std::string report = (dir.path() / "report.json").string();
    Run run = run_command(
        fmt::format("goaccess {} {} --no-global-config -o {}", file, format_flags, report));
    INFO(run.output);
    CHECK(run.exit_code == 0);
    std::ifstream in(report);
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Every line counted, none rejected by the parser.
    CHECK(json.find("\"total_requests\": 3") != std::string::npos);
    CHECK(json.find("\"failed_requests\": 0") != std::string::npos);
  };
  // Squid's native access.log, as goaccess's documentation spells it.
  parse(log, "--log-format='%x.%^ %~%L %h %^/%s %b %m %U' --date-format=%s --time-format=%s");
  // goaccess's SQUID preset reads the same lines as Squid sends them through syslog.
  std::string syslog = (dir.path() / "syslog.log").string();
  REQUIRE(run_command(fmt::format("sed 's/^/Nov 25 13:00:00 gw squid[1]: /' {} > {}", log, syslog))
              .exit_code == 0);
  parse(syslog, "--log-format=SQUID");
}

TEST_CASE("curl fetches an https:// page through a CONNECT tunnel", "[binary][tunnel]") {
  REQUIRE(run_command("command -v openssl && command -v curl").exit_code == 0);
  TempDir dir;
  std::string key = (dir.path() / "key.pem").string();
  std::string cert = (dir.path() / "cert.pem").string();
  REQUIRE(run_command(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                  "-days 1 -subj /CN=127.0.0.1",
                                  key, cert))
              .exit_code == 0);
  std::uint16_t tls_port = free_port();
  pid_t server = ::fork();
  REQUIRE(server >= 0);
  if (server == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::string accept = fmt::format("127.0.0.1:{}", tls_port);
    // -www answers every GET with a status page over TLS.
    ::execlp("openssl", "openssl", "s_server", "-accept", accept.c_str(), "-cert", cert.c_str(),
             "-key", key.c_str(), "-www", "-quiet", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  TestProxy proxy(dir.path(), [&](cacheproxy::Config& c) { c.connect_ports = {tls_port}; });
  Run fetched;
  for (int attempt = 0; attempt < 50; ++attempt) {  // until s_server listens
    fetched =
        run_command(fmt::format("curl -sS -k --max-time 10 --proxy http://127.0.0.1:{} "
                                "https://127.0.0.1:{}/",
                                proxy.port(), tls_port));
    if (fetched.exit_code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  INFO(fetched.output);
  CHECK(fetched.exit_code == 0);
  CHECK(fetched.output.find("s_server") != std::string::npos);
  // The tunnel's line is written when it closes, just after curl is done.
  bool logged = false;
  for (int i = 0; i < 100 && !logged; ++i) {
    for (const auto& line : proxy.access_log_lines())
      logged = logged || line.find(" TCP_TUNNEL/200 ") != std::string::npos;
    if (!logged) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(logged);
}
