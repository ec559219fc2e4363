#include "proxy/sd_notify.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace cacheproxy {

namespace {

constexpr const char* kNotifySocketVariable = "NOTIFY_SOCKET";
constexpr std::string_view kStatusPrefix = "STATUS=";

// Closes the socket on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

NotifyResult failure(std::string message) { return {NotifyOutcome::failed, std::move(message)}; }

}  // namespace

std::string notify_status(std::string_view text) {
  std::string line(kStatusPrefix);
  line += text;
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
}

NotifyResult notify_service_manager(std::string_view state) {
  const char* path = std::getenv(kNotifySocketVariable);
  if (path == nullptr || *path == '\0') return {};
  return notify_socket(path, state);
}

NotifyResult notify_socket(std::string_view socket_path, std::string_view state) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // The abstract namespace needs the name's length, without a terminating NUL; a path is
  // NUL-terminated, and sun_path must hold it with that NUL.
  bool abstract = socket_path.starts_with('@');
  std::size_t room = sizeof address.sun_path - (abstract ? 0 : 1);
  if (socket_path.size() < 2 || socket_path.size() > room ||
      (!abstract && !socket_path.starts_with('/'))) {
    // systemd also knows "vsock:" addresses (for virtual machines); a proxy never gets those.
    return failure(fmt::format("{}={}: not an absolute path or @abstract name",
                               kNotifySocketVariable, socket_path));
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  if (abstract) address.sun_path[0] = '\0';
  std::size_t terminator = abstract ? 0 : 1;
  auto length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size() + terminator);

  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return failure(fmt::format("notify socket: {}", std::strerror(errno)));
  ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0)
    return failure(fmt::format("cannot notify {}: {}", socket_path, std::strerror(errno)));
  if (static_cast<std::size_t>(sent) != state.size())
    return failure(fmt::format("cannot notify {}: short datagram", socket_path));
  return {NotifyOutcome::sent, {}};
}

}  // namespace cacheproxy
