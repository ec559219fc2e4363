// A real browser through the proxy: headless Chromium loads a page with twenty images over
// HTTP and one over HTTPS (a CONNECT tunnel to `openssl s_server`), all on loopback. The page
// reports how many images decoded; a second browser with a fresh profile must get everything
// cacheable from the proxy's cache. A screenshot is left in the build tree
// (build/artifacts/chromium_page.png). Skipped, with a warning, when Chromium cannot run.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/command.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
namespace asio = boost::asio;

namespace {

constexpr int kHttpImages = 20;
constexpr int kSide = 48;  // image width and height in pixels

// A 24-bit uncompressed BMP of one colour: the simplest format every browser decodes, and
// one it recognises by content even when served as text/plain (as s_server -WWW does).
std::string solid_bmp(unsigned char r, unsigned char g, unsigned char b) {
  auto le32 = [](std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto le16 = [](std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xff));
    out.push_back(static_cast<char>(v >> 8));
  };
  const std::uint32_t pixels = kSide * kSide * 3;  // rows of 144 bytes need no padding
  std::string out = "BM";
  le32(out, 54 + pixels);
  le32(out, 0);
  le32(out, 54);
  le32(out, 40);  // BITMAPINFOHEADER
  le32(out, kSide);
  le32(out, kSide);
  le16(out, 1);
  le16(out, 24);
  le32(out, 0);
  le32(out, pixels);
  le32(out, 2835);
  le32(out, 2835);
  le32(out, 0);
  le32(out, 0);
  for (int i = 0; i < kSide * kSide; ++i) {
    out.push_back(static_cast<char>(b));
    out.push_back(static_cast<char>(g));
    out.push_back(static_cast<char>(r));
  }
  return out;
}

std::string test_page(std::uint16_t tls_port) {
  std::string images;
  for (int i = 0; i < kHttpImages; ++i) images += fmt::format("<img src=\"/img/{}.bmp\">\n", i);
  images += fmt::format("<img src=\"https://127.0.0.1:{}/tls.bmp\">\n", tls_port);
  // After the load event every image has either decoded or failed.
  return fmt::format(R"(<!doctype html>
<html><head><meta charset="utf-8"><title>cacheproxy browser test</title></head>
<body style="margin:8px;background:#fff">
<p id="status">loading</p>
{}<script>
window.addEventListener('load', function () {{
  var ok = 0, all = document.images;
  for (var i = 0; i < all.length; i++) if (all[i].complete && all[i].naturalWidth > 0) ok++;
  document.getElementById('status').textContent = 'images loaded: ' + ok + '/' + all.length;
}});
</script>
</body></html>
)",
                     images);
}

bool port_open(std::uint16_t port) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

// `openssl s_server -WWW` serving files from `dir` over TLS with a self-signed certificate.
class TlsFileServer {
 public:
  explicit TlsFileServer(const std::filesystem::path& dir) : port_(free_port()) {
    std::string key = (dir / "key.pem").string();
    std::string cert = (dir / "cert.pem").string();
    REQUIRE(run_command(fmt::format("openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} "
                                    "-days 1 -subj /CN=127.0.0.1",
                                    key, cert))
                .exit_code == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      if (::chdir(dir.c_str()) != 0) ::_exit(127);
      std::freopen("/dev/null", "w", stdout);
      std::freopen("/dev/null", "w", stderr);
      std::string accept = fmt::format("127.0.0.1:{}", port_);
      ::execlp("openssl", "openssl", "s_server", "-accept", accept.c_str(), "-cert", cert.c_str(),
               "-key", key.c_str(), "-WWW", "-quiet", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int attempt = 0; attempt < 100 && !port_open(port_); ++attempt)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ~TlsFileServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

// Chromium flags for a quiet, self-contained run: no first-run UI, no background requests
// to Google's services (the proxy must see only the test's own traffic), no GPU.
// Debian's /usr/bin/chromium wrapper adds flags (remote extension updates, API keys) that make
// the browser call Google at start-up; the binary behind it is run directly when present.
std::string chromium_binary() {
  const char* direct = "/usr/lib/chromium/chromium";
  return ::access(direct, X_OK) == 0 ? direct : "chromium";
}

std::string chromium_command(const std::filesystem::path& profile, std::uint16_t proxy_port,
                             const std::string& action, const std::string& url,
                             const std::filesystem::path& log) {
  return fmt::format(
      "{{ timeout 40 {} --headless=new --no-sandbox --disable-gpu --no-first-run "
      "--no-default-browser-check --disable-background-networking --disable-component-update "
      "--disable-sync --disable-default-apps --disable-extensions --disable-domain-reliability "
      "--no-pings --metrics-recording-only --disable-client-side-phishing-detection "
      "--disable-breakpad --safebrowsing-disable-auto-update --disable-field-trial-config "
      "--disable-features=OptimizationHints,Translate,MediaRouter,NetworkTimeServiceQuerying,"
      "AutofillServerCommunication,CertificateTransparencyComponentUpdater "
      "--component-updater=url-source=http://127.0.0.1:9/ --gaia-url=http://127.0.0.1:9/ "
      "--ignore-certificate-errors --user-data-dir={} --proxy-server=http://127.0.0.1:{} "
      "--proxy-bypass-list='<-loopback>' --window-size=800,600 --virtual-time-budget=10000 "
      "{} {} 2>>{}; }}",
      chromium_binary(), shell_quote(profile.string()), proxy_port, action, shell_quote(url),
      shell_quote(log.string()));
}

// Why Chromium cannot run here, or empty if it can.
std::string chromium_unavailable(const std::filesystem::path& dir) {
  if (!have_program("chromium")) return "chromium is not installed (scripts/install-deps.sh)";
  // Through a closed loopback port as its proxy, so not even the probe reaches the network.
  CommandResult probe =
      run_command(chromium_command(dir / "probe-profile", 9, "--dump-dom",
                                   "data:text/html,<p>chromium-runs</p>", dir / "probe.log"));
  if (probe.output.find("chromium-runs") == std::string::npos)
    return fmt::format("chromium does not start headless here (exit {})", probe.exit_code);
  return {};
}

}  // namespace

TEST_CASE("headless Chromium browses through the proxy and a second profile hits its cache",
          "[proxy][browser]") {
  TempDir dir;
  if (std::string why = chromium_unavailable(dir.path()); !why.empty()) {
    WARN("skipping the browser test: " << why);
    return;
  }
  std::filesystem::path tls_root = dir.path() / "tls";
  std::filesystem::create_directories(tls_root);
  std::ofstream(tls_root / "tls.bmp", std::ios::binary) << solid_bmp(0x20, 0x60, 0xd0);
  TlsFileServer tls(tls_root);
  REQUIRE(port_open(tls.port()));

  std::vector<std::string> bmps;
  for (int i = 0; i < kHttpImages; ++i) {
    auto shade = static_cast<unsigned char>(i * 12);
    bmps.push_back(solid_bmp(0xff - shade, shade, 0x40));
  }
  std::string page = test_page(tls.port());
  OriginServer origin([&](const OriginRequest& req) {
    const std::vector<std::pair<std::string, std::string>> cacheable{
        {"Cache-Control", "max-age=3600"}};
    if (req.target == "/") {
      OriginResponse r = make_response(200, page, cacheable);
      r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
      return r;
    }
    for (int i = 0; i < kHttpImages; ++i) {
      if (req.target == fmt::format("/img/{}.bmp", i)) {
        OriginResponse r = make_response(200, bmps[i], cacheable);
        r.headers.emplace_back("Content-Type", "image/bmp");
        return r;
      }
    }
    return make_response(404, "not here");  // /favicon.ico
  });
  TestProxy proxy(dir.path(), [&](cacheproxy::Config& c) {
    c.connect_ports = {tls.port()};
    // Only loopback, whatever the browser might try.
    REQUIRE_FALSE(cacheproxy::AccessRules::parse({"allow 127.0.0.0/8", "deny all"},
                                                 &c.destination_access));
  });
  std::string url = origin.url("/");
  std::filesystem::path log = dir.path() / "chromium.log";

  // First visit: everything comes from the origins.
  CommandResult first = run_command(
      chromium_command(dir.path() / "profile-1", proxy.port(), "--dump-dom", url, log));
  INFO("chromium output: " << first.output);
  CHECK(first.output.find(fmt::format("images loaded: {0}/{0}", kHttpImages + 1)) !=
        std::string::npos);
  CHECK(origin.request_count("/") == 1);
  for (int i = 0; i < kHttpImages; ++i) CHECK(origin.request_count(fmt::format("/img/{}.bmp", i)) == 1);

  // Second visit with a fresh profile (an empty browser cache): the page and the images come
  // from the proxy's cache; the HTTPS image goes through a new tunnel.
  CommandResult second = run_command(
      chromium_command(dir.path() / "profile-2", proxy.port(), "--dump-dom", url, log));
  INFO("chromium output (second visit): " << second.output);
  CHECK(second.output.find(fmt::format("images loaded: {0}/{0}", kHttpImages + 1)) !=
        std::string::npos);
  CHECK(origin.request_count("/") == 1);
  for (int i = 0; i < kHttpImages; ++i) CHECK(origin.request_count(fmt::format("/img/{}.bmp", i)) == 1);

  // A screenshot of the page as rendered, kept as a test artifact.
  std::filesystem::path artifacts = CACHEPROXY_ARTIFACT_DIR;
  std::filesystem::create_directories(artifacts);
  std::filesystem::path screenshot = artifacts / "chromium_page.png";
  std::filesystem::remove(screenshot);
  CommandResult shot = run_command(chromium_command(
      dir.path() / "profile-3", proxy.port(), "--screenshot=" + screenshot.string(), url, log));
  INFO("chromium output (screenshot): " << shot.output);
  REQUIRE(std::filesystem::exists(screenshot));
  std::ifstream png(screenshot, std::ios::binary);
  std::string magic(8, '\0');
  png.read(magic.data(), 8);
  CHECK(magic == "\x89PNG\r\n\x1a\n");
  CHECK(std::filesystem::file_size(screenshot) > 1000);
  CHECK(origin.request_count("/") == 1);

  // The proxy saw the traffic: hits for the second visits, and the HTTPS image's tunnels.
  // (A tunnel's line is written when it closes, just after its browser exits.)
  std::vector<std::string> lines;
  std::size_t hits = 0, tunnels = 0;
  for (int attempt = 0; attempt < 100 && tunnels < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    lines = proxy.access_log_lines();
    hits = tunnels = 0;
    for (const std::string& line : lines) {
      if (line.find("_HIT/200 ") != std::string::npos) ++hits;
      if (line.find(" TCP_TUNNEL/200 ") != std::string::npos) ++tunnels;
    }
  }
  for (const std::string& line : lines) {
    // Field 7 is the URL: nothing but the test's own loopback servers was asked for.
    std::istringstream fields(line);
    std::string field;
    for (int i = 0; i < 7; ++i) fields >> field;
    INFO(line);
    CHECK(field.find("127.0.0.1:") != std::string::npos);
  }
  CHECK(hits >= 2 * (kHttpImages + 1));
  CHECK(tunnels >= 3);  // one per visit
}
