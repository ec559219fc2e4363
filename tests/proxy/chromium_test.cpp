// Real browser tests in headless Chromium (Debian's `chromium`): the live statistics page
// renders, draws its charts and shows the numbers /stats gives after a scripted workload (a
// screenshot is kept as live_page.png in the test's working folder, the build's tests/); and
// a page loads through the proxy chosen by its PAC file (--proxy-pac-url).
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "proxy/access_control.hpp"
#include "support/command.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy;
using namespace cacheproxy::testing;
namespace json = boost::json;

namespace {

// Chromium's command line up to the URL, or empty (with a warning saying why) if it cannot
// run here.
std::string chromium_command(const std::filesystem::path& profile) {
  if (!have_program("chromium")) {
    WARN("skipped: chromium is not installed (scripts/install-deps.sh installs it)");
    return {};
  }
  // Root cannot use Chromium's sandbox; the pages loaded are the test's own.
  std::string command = fmt::format(
      "chromium --headless=new --disable-gpu --no-first-run --no-default-browser-check "
      "--disable-extensions --disable-background-networking --disable-component-update "
      "--disable-sync --disable-dev-shm-usage --user-data-dir={}{}",
      shell_quote(profile.string()), ::geteuid() == 0 ? " --no-sandbox" : "");
  CommandResult version = run_command(command + " --version 2>&1");
  if (version.exit_code != 0) {
    WARN("skipped: chromium cannot run here: " << version.output);
    return {};
  }
  return command;
}

// The page's figures: id -> data-value, from the DOM Chromium dumped.
std::map<std::string, std::string> figures(const std::string& dom) {
  std::map<std::string, std::string> out;
  std::regex element(R"re(id="([a-z0-9-]+)"[^>]*?data-value="([^"]*)")re");
  for (std::sregex_iterator it(dom.begin(), dom.end(), element), end; it != end; ++it)
    out[(*it)[1]] = (*it)[2];
  return out;
}

double number(const json::value& v) { return v.to_number<double>(); }

// Runs Chromium with `arguments`; its stderr (D-Bus complaints of a machine without a session
// bus, and the like) goes to <dir>/chromium.log, so the output is the page's DOM.
CommandResult run_chromium(const std::string& chromium, const std::string& arguments,
                           const std::filesystem::path& dir) {
  // A subshell, so that run_command's own "2>&1" does not undo the redirection.
  std::string command = chromium + " " + arguments;
  return run_command("(" + command + ") 2>>" + shell_quote((dir / "chromium.log").string()));
}

}  // namespace

TEST_CASE("chromium: the live page draws its charts and shows the numbers of /stats",
          "[chromium][live][admin]") {
  TempDir dir;
  std::string chromium = chromium_command(dir.path() / "profile");
  if (chromium.empty()) return;
  OriginServer origin([](const OriginRequest& req) {
    if (req.target.starts_with("/revalidate")) {
      if (req.headers.count("If-None-Match"))
        return make_response(304, "", {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=0"}});
      return make_response(200, std::string(3000, 'r'),
                           {{"ETag", "\"v1\""}, {"Cache-Control", "max-age=0"}});
    }
    return make_response(200, std::string(20'000, 'x'), {{"Cache-Control", "max-age=600"}});
  });
  TestProxy proxy(dir.path());
  std::size_t lines = 0;
  {
    ProxyClient client(proxy.port());
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i < 4; ++i) client.get(origin.url(fmt::format("/object/{}", i)));
      client.get(origin.url("/revalidate"));
      lines += 5;
    }
    // An origin that refuses connections: a 502, counted as an error.
    std::string dead = fmt::format("http://127.0.0.1:{}/gone", free_port());
    CHECK(client.get(dead).result_int() == 502);
    lines += 1;
  }
  proxy.access_log_lines(lines);  // every request counted

  std::string page = fmt::format("http://127.0.0.1:{}/", proxy.port());
  // Chromium's own background requests (updates, sign-in) find no DNS: only loopback traffic.
  const std::string no_dns = " --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'";
  CommandResult dump = run_chromium(
      chromium, "--virtual-time-budget=5000 --dump-dom" + no_dns + " " + shell_quote(page),
      dir.path());
  INFO(dump.output.substr(0, 4000));
  REQUIRE(dump.exit_code == 0);
  const std::string& dom = dump.output;
  CHECK(dom.find("data-drawn=\"1\"") != std::string::npos);
  CHECK(dom.find("data-updates=\"0\"") == std::string::npos);

  Response stats_response = ProxyClient(proxy.port()).get("/stats");
  REQUIRE(stats_response.result_int() == 200);
  json::object stats = json::parse(stats_response.body()).as_object();
  auto shown = figures(dom);
  auto same = [&](const std::string& id, const json::value& expected) {
    INFO(id);
    REQUIRE(shown.count(id) == 1);
    CHECK(std::stod(shown[id]) == Approx(number(expected)));
  };
  // These do not move with the page's own requests to /stats.
  CHECK(number(stats.at("misses")) == 5);     // 4 objects and the first /revalidate
  CHECK(number(stats.at("disk_hits")) == 4);  // the second round, promoted to memory
  CHECK(number(stats.at("memory_hits")) == 4);
  CHECK(number(stats.at("refresh_unmodified")) == 2);
  same("memory-hits", stats.at("memory_hits"));
  same("disk-hits", stats.at("disk_hits"));
  same("revalidated", stats.at("refresh_unmodified"));
  same("misses", stats.at("misses"));
  same("errors", stats.at("errors"));
  same("req-ratio-all", stats.at("request_hit_ratio"));
  same("byte-ratio-all", stats.at("byte_hit_ratio"));
  same("req-ratio-5m", stats.at("windows").at("5m").at("request_hit_ratio"));
  same("req-ratio-60m", stats.at("windows").at("60m").at("request_hit_ratio"));
  same("byte-ratio-60m", stats.at("windows").at("60m").at("byte_hit_ratio"));
  same("disk-entries", stats.at("cache").at("disk_entries"));
  same("disk-bytes", stats.at("cache").at("disk_bytes"));
  same("disk-budget", stats.at("cache").at("disk_budget_bytes"));
  same("memory-entries", stats.at("cache").at("memory_entries"));
  same("tunnels", stats.at("tunnels_active"));
  REQUIRE(shown.count("rps-now") == 1);
  CHECK(std::stod(shown["rps-now"]) > 0);
  REQUIRE(shown.count("uptime") == 1);
  // The busiest host, with what the cache saved it.
  CHECK(dom.find("data-host=\"127.0.0.1\"") != std::string::npos);

  auto screenshot = std::filesystem::current_path() / "live_page.png";
  std::filesystem::remove(screenshot);
  CommandResult shot = run_chromium(chromium,
                                    "--virtual-time-budget=3000 --window-size=1280,1400" + no_dns +
                                        " --screenshot=" + shell_quote(screenshot.string()) + " " +
                                        shell_quote(page),
                                    dir.path());
  INFO(shot.output);
  CHECK(shot.exit_code == 0);
  CHECK(std::filesystem::exists(screenshot));
  CHECK(std::filesystem::file_size(screenshot) > 10'000);
}

TEST_CASE("chromium: a page loads through the proxy its PAC file names", "[chromium][pac]") {
  TempDir dir;
  std::string chromium = chromium_command(dir.path() / "profile");
  if (chromium.empty()) return;
  // Chromium never sends a loopback URL (127.0.0.0/8, localhost) to a proxy chosen by a PAC
  // file (its "implicit bypass rules"; --proxy-bypass-list=<-loopback> lifts them for
  // --proxy-server only). So the page's host is this machine's name, which /etc/hosts maps
  // to a loopback address on Debian (127.0.1.1) and which Chromium does not treat as local:
  // the proxy resolves it and fetches from a server on that address.
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  std::string host = name;
  boost::asio::io_context ioc;
  boost::system::error_code ec;
  auto resolved =
      boost::asio::ip::tcp::resolver(ioc).resolve(boost::asio::ip::tcp::v4(), host, "80", ec);
  std::string address;
  for (const auto& entry : resolved)
    if (entry.endpoint().address().is_loopback()) address = entry.endpoint().address().to_string();
  if (ec || address.empty() || host.empty()) {
    WARN("skipped: this machine's name '" << host << "' does not resolve to a loopback address");
    return;
  }
  std::filesystem::create_directories(dir.path() / "site");
  std::ofstream(dir.path() / "site" / "page.html")
      << "<html><body><p id=\"marker\">through the proxy</p></body></html>";
  std::uint16_t origin_port = free_port();
  CommandResult started = run_command(
      fmt::format("python3 -m http.server {} --bind {} --directory {} >/dev/null 2>&1 & echo $!",
                  origin_port, address, shell_quote((dir.path() / "site").string())));
  REQUIRE(started.exit_code == 0);
  pid_t origin_pid = std::stoi(started.output);
  struct Stop {
    pid_t pid;
    ~Stop() { ::kill(pid, SIGTERM); }
  } stop_origin{origin_pid};
  std::string url = fmt::format("http://{}:{}/page.html", host, origin_port);
  bool origin_up = false;
  for (int i = 0; i < 100 && !origin_up; ++i) {
    origin_up =
        run_command("curl -s -o /dev/null --noproxy '*' " + shell_quote(url)).exit_code == 0;
    if (!origin_up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(origin_up);

  // Everything but the test's host goes DIRECT (pac_direct_hosts), where the resolver rules
  // below make Chromium's own background requests fail: no traffic leaves the machine.
  TestProxy proxy(dir.path(), [&](Config& c) {
    c.pac_proxy_hosts = {host};
    c.pac_direct_hosts = {"*"};
  });
  std::string pac = fmt::format("http://127.0.0.1:{}/proxy.pac", proxy.port());
  CommandResult run = run_chromium(chromium,
                                   "--proxy-pac-url=" + shell_quote(pac) +
                                       " --host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'"
                                       " --virtual-time-budget=5000 --dump-dom " +
                                       shell_quote(url),
                                   dir.path());
  std::ifstream chromium_log(dir.path() / "chromium.log");
  std::string log_text((std::istreambuf_iterator<char>(chromium_log)),
                       std::istreambuf_iterator<char>());
  INFO("chromium's output: " << run.output.substr(0, 4000) << "\nits log (end): "
                             << log_text.substr(log_text.size() > 3000 ? log_text.size() - 3000
                                                                       : 0));
  INFO("url " << url);
  REQUIRE(run.exit_code == 0);
  CHECK(run.output.find("through the proxy") != std::string::npos);
  bool proxied = false;
  for (int i = 0; i < 100 && !proxied; ++i) {
    for (const auto& line : proxy.access_log_lines())
      proxied = proxied || (line.find(" GET " + url + " ") != std::string::npos &&
                            line.find("TCP_MISS/200") != std::string::npos);
    if (!proxied) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(proxied);
  // Chromium fetched the PAC file from the proxy itself.
  bool pac_fetched = false;
  for (const auto& line : proxy.access_log_lines())
    pac_fetched = pac_fetched || line.find(" GET /proxy.pac ") != std::string::npos;
  CHECK(pac_fetched);
}
