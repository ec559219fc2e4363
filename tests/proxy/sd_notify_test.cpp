// The systemd notify protocol over a real datagram socket the test binds: the function alone
// (path and abstract sockets), then the binary run with NOTIFY_SOCKET as systemd runs it.
#include "proxy/sd_notify.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <random>

#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;
using cacheproxy::NotifyOutcome;

namespace {

// How long a test waits for a datagram before failing.
constexpr auto kReceiveTimeout = std::chrono::seconds(10);

// A bound AF_UNIX datagram socket, as systemd's own notify socket.
class NotifyListener {
 public:
  // `name`: a file system path, or "@name" for the abstract namespace.
  explicit NotifyListener(const std::string& name) : name_(name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    REQUIRE(name.size() < sizeof address.sun_path);
    std::memcpy(address.sun_path, name.data(), name.size());
    bool abstract = name.front() == '@';
    if (abstract) address.sun_path[0] = '\0';
    auto length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) == 0);
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kReceiveTimeout).count();
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifyListener() { ::close(fd_); }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  // The next datagram, or "" after the timeout.
  std::string receive() {
    char buffer[4096];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_ = -1;
};

std::string unique_abstract_name() {
  std::random_device random;
  return fmt::format("@cacheproxy-test-notify-{}-{}", ::getpid(), random());
}

bool has_line(const std::string& datagram, const std::string& line) {
  return ("\n" + datagram + "\n").find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("sd_notify: a datagram reaches a path socket and an abstract one", "[notify]") {
  TempDir dir;
  NotifyListener on_path((dir.path() / "notify.sock").string());
  auto sent = cacheproxy::notify_socket(on_path.name(), "READY=1\nSTATUS=serving");
  INFO(sent.message);
  CHECK(sent.outcome == NotifyOutcome::sent);
  CHECK(on_path.receive() == "READY=1\nSTATUS=serving");

  NotifyListener abstract(unique_abstract_name());
  CHECK(cacheproxy::notify_socket(abstract.name(), cacheproxy::kNotifyStopping).outcome ==
        NotifyOutcome::sent);
  CHECK(abstract.receive() == "STOPPING=1");
  CHECK(cacheproxy::notify_socket(abstract.name(), cacheproxy::kNotifyReloading).outcome ==
        NotifyOutcome::sent);
  CHECK(abstract.receive() == "RELOADING=1");
}

TEST_CASE("sd_notify: NOTIFY_SOCKET chooses the socket, and failures are values", "[notify]") {
  NotifyListener listener(unique_abstract_name());
  ::setenv("NOTIFY_SOCKET", listener.name().c_str(), 1);
  CHECK(cacheproxy::notify_service_manager(cacheproxy::kNotifyReady).outcome ==
        NotifyOutcome::sent);
  CHECK(listener.receive() == "READY=1");

  ::unsetenv("NOTIFY_SOCKET");
  CHECK(cacheproxy::notify_service_manager(cacheproxy::kNotifyReady).outcome ==
        NotifyOutcome::not_supervised);

  TempDir dir;
  auto missing = cacheproxy::notify_socket((dir.path() / "nobody.sock").string(), "READY=1");
  CHECK(missing.outcome == NotifyOutcome::failed);
  CHECK(missing.message.find("nobody.sock") != std::string::npos);
  CHECK(cacheproxy::notify_socket("relative.sock", "READY=1").outcome == NotifyOutcome::failed);
  CHECK(cacheproxy::notify_socket("@", "READY=1").outcome == NotifyOutcome::failed);
  CHECK(cacheproxy::notify_socket("/" + std::string(200, 'x'), "READY=1").outcome ==
        NotifyOutcome::failed);

  // A newline in a status would start another variable.
  CHECK(cacheproxy::notify_status("two\nlines") == "STATUS=two lines");
}

TEST_CASE("sd_notify: the binary says READY=1 once serving, STOPPING=1 on SIGTERM", "[notify]") {
  TempDir dir;
  NotifyListener listener(unique_abstract_name());
  std::uint16_t port = free_port();
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::freopen((dir.path() / "proxy.log").c_str(), "w", stderr);
    ::setenv("NOTIFY_SOCKET", listener.name().c_str(), 1);
    std::string listen = fmt::format("--listen=127.0.0.1:{}", port);
    std::string cache = fmt::format("--cache-dir={}/cache", dir.path().string());
    std::string access = fmt::format("--access-log={}/access.log", dir.path().string());
    ::execl(CACHEPROXY_BINARY, "cacheproxy", listen.c_str(), cache.c_str(), access.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string ready = listener.receive();
  INFO(ready);
  CHECK(has_line(ready, "READY=1"));
  CHECK(ready.find("STATUS=") != std::string::npos);
  // Ready means ready: the port accepts at once, with no retry.
  bool connected = false;
  try {
    ProxyClient client(port);
    connected = true;
  } catch (const std::exception&) {
  }
  CHECK(connected);

  ::kill(pid, SIGTERM);
  std::string stopping = listener.receive();
  INFO(stopping);
  CHECK(has_line(stopping, "STOPPING=1"));
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
