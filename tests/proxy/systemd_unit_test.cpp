// Running under systemd: the unit file checked by systemd-analyze verify, the logrotate
// rules run by logrotate on a scratch log, and scripts/install.sh staged into a folder
// (DESTDIR) twice, keeping an edited config.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/command.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;

namespace {

const std::string kSourceDir = CACHEPROXY_SOURCE_DIR;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("systemd: the unit (Type=notify) passes systemd-analyze verify", "[systemd][notify]") {
  std::string unit = read_file(kSourceDir + "/conf/cacheproxy.service");
  for (const char* line :
       {"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "CacheDirectory=cacheproxy",
        "LogsDirectory=cacheproxy", "StateDirectory=cacheproxy", "User=cacheproxy",
        "LimitNOFILE=65536", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "ExecStart=/usr/local/bin/cacheproxy --config "
        "/etc/cacheproxy/cacheproxy.conf"}) {
    INFO(line);
    CHECK(unit.find(std::string("\n") + line + "\n") != std::string::npos);
  }

  if (!have_program("systemd-analyze")) {
    WARN("systemd-analyze is not installed (apt-get install systemd): unit not verified");
    return;
  }
  // verify insists that ExecStart= names an existing executable: point it at this build's.
  TempDir dir;
  std::filesystem::path staged = dir.path() / "cacheproxy.service";
  write_file(staged, std::regex_replace(unit, std::regex("ExecStart=/usr/local/bin/cacheproxy"),
                                        "ExecStart=" CACHEPROXY_BINARY));
  // systemd-analyze needs no running systemd, but some sandboxes deny what it uses: check it
  // works at all on a trivial unit before judging ours.
  std::filesystem::path trivial = dir.path() / "trivial.service";
  write_file(trivial, "[Service]\nType=oneshot\nExecStart=/bin/true\n");
  CommandResult probe = run_command("systemd-analyze verify " + shell_quote(trivial.string()));
  if (probe.exit_code != 0 || !probe.output.empty()) {
    WARN("systemd-analyze verify does not work in this environment, unit not verified: " +
         probe.output);
    return;
  }
  CommandResult verified = run_command("systemd-analyze verify " + shell_quote(staged.string()));
  INFO(verified.output);
  CHECK(verified.exit_code == 0);
  // Unknown keys and bad values are only warnings (exit code 0): there must be none.
  CHECK(verified.output.empty());
}

TEST_CASE("systemd: logrotate renames the access log and signals the service to reopen it",
          "[systemd]") {
  if (!have_program("logrotate")) {
    WARN("logrotate is not installed (apt-get install logrotate): rules not checked");
    return;
  }
  TempDir dir;
  std::filesystem::path logs = dir.path() / "log";
  std::filesystem::create_directories(logs);
  std::string rules = read_file(kSourceDir + "/conf/cacheproxy.logrotate");
  rules = std::regex_replace(rules, std::regex("/var/log/cacheproxy"), logs.string());
  // The service user does not exist here; act as whoever runs the test.
  rules = std::regex_replace(rules, std::regex("su cacheproxy cacheproxy"), "su root root");
  rules = std::regex_replace(rules, std::regex("create 0640 cacheproxy cacheproxy"),
                             "create 0640 root root");
  // The signal to the service becomes a file the test can see.
  std::filesystem::path signalled = dir.path() / "signalled";
  rules = std::regex_replace(rules,
                             std::regex("systemctl kill --signal=USR1 --kill-whom=main "
                                        "cacheproxy.service"),
                             "touch " + signalled.string());
  write_file(dir.path() / "rules", rules);
  write_file(logs / "access.log", "1700000000.000      1 127.0.0.1 TCP_MISS/200 10 GET x\n");
  CommandResult rotated = run_command(fmt::format("logrotate --force --state {} {}",
                                                  shell_quote((dir.path() / "state").string()),
                                                  shell_quote((dir.path() / "rules").string())));
  INFO(rotated.output);
  CHECK(rotated.exit_code == 0);
  // A new empty file under the old name, the old lines in a dated copy, and the service told
  // to reopen its log (SIGUSR1; tests/proxy/reload_test.cpp checks the proxy's side).
  CHECK(std::filesystem::file_size(logs / "access.log") == 0);
  CHECK(std::filesystem::exists(signalled));
  std::size_t copies = 0;
  for (const auto& entry : std::filesystem::directory_iterator(logs)) {
    if (entry.path().filename().string().starts_with("access.log-")) ++copies;
  }
  CHECK(copies == 1);
}

TEST_CASE("systemd: install.sh stages every file and keeps an edited config", "[systemd]") {
  TempDir dir;
  std::filesystem::path root = dir.path() / "root";
  std::string command =
      fmt::format("DESTDIR={} {}/scripts/install.sh --binary {}", shell_quote(root.string()),
                  shell_quote(kSourceDir), shell_quote(CACHEPROXY_BINARY));
  CommandResult first = run_command(command);
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  for (const char* file : {"usr/local/bin/cacheproxy", "etc/cacheproxy/cacheproxy.conf",
                           "etc/systemd/system/cacheproxy.service", "etc/logrotate.d/cacheproxy",
                           "usr/local/share/doc/cacheproxy/LAN-GATEWAY.md"}) {
    INFO(file);
    CHECK(std::filesystem::exists(root / file));
  }
  std::filesystem::path config = root / "etc/cacheproxy/cacheproxy.conf";
  std::string installed = read_file(config);
  // The service's folders, as the unit's CacheDirectory= and LogsDirectory= create them.
  CHECK(installed.find("\ncache_dir = /var/cache/cacheproxy\n") != std::string::npos);
  CHECK(installed.find("\naccess_log = /var/log/cacheproxy/access.log\n") != std::string::npos);

  // Run again (an upgrade): the admin's edit survives, the new defaults land beside it.
  write_file(config, std::regex_replace(installed, std::regex("\ncache_size = [^\n]*"),
                                        "\ncache_size = 20GiB"));
  CommandResult second = run_command(command);
  INFO(second.output);
  REQUIRE(second.exit_code == 0);
  CHECK(read_file(config).find("cache_size = 20GiB") != std::string::npos);
  CHECK(std::filesystem::exists(root / "etc/cacheproxy/cacheproxy.conf.dist"));

  // A config the new binary rejects fails the install loudly, naming the setting.
  write_file(config, installed + "no_such_setting = 1\n");
  CommandResult rejected = run_command(command);
  CHECK(rejected.exit_code != 0);
  CHECK(rejected.output.find("no_such_setting") != std::string::npos);
}
