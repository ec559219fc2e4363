// Readiness and status notifications to systemd (Type=notify), speaking the notify socket
// protocol directly instead of linking libsystemd: one datagram of newline-separated
// VARIABLE=value lines (READY=1, RELOADING=1, STOPPING=1, STATUS=...) sent to the AF_UNIX
// socket named by $NOTIFY_SOCKET, as sd_notify(3) describes it (systemd 252, Debian 12). Not
// running under systemd is normal, not an error.
#pragma once

#include <string>
#include <string_view>

namespace cacheproxy {

enum class NotifyOutcome {
  sent,
  not_supervised,  // NOTIFY_SOCKET is not set: no service manager is listening
  failed,          // set, but the datagram could not be sent (see the message)
};

struct NotifyResult {
  NotifyOutcome outcome = NotifyOutcome::not_supervised;
  std::string message;  // why it failed, naming the socket
};

// State strings, e.g. notify_service_manager(kNotifyReady).
inline constexpr std::string_view kNotifyReady = "READY=1";
inline constexpr std::string_view kNotifyReloading = "RELOADING=1";
inline constexpr std::string_view kNotifyStopping = "STOPPING=1";

// "STATUS=<text>": the line `systemctl status` shows. Newlines in text become spaces, since a
// newline would start another variable.
std::string notify_status(std::string_view text);

// Sends `state` (one or more lines) to the socket named by $NOTIFY_SOCKET, if it is set.
NotifyResult notify_service_manager(std::string_view state);

// Sends `state` to `socket_path`: a file system path ("/run/systemd/notify") or, starting
// with '@', a name in Linux's abstract socket namespace.
NotifyResult notify_socket(std::string_view socket_path, std::string_view state);

}  // namespace cacheproxy
