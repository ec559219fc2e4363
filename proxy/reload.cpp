#include "proxy/reload.hpp"

#include <fmt/format.h>

#include "proxy/logging.hpp"
#include "proxy/sd_notify.hpp"

namespace cacheproxy {

bool reload_config(Server& server, int argc, const char* const* argv) {
  notify_service_manager(
      fmt::format("{}\n{}", kNotifyReloading, notify_status("reloading the config")));
  ConfigResult parsed = parse_config(argc, argv);
  bool installed = false;
  if (!parsed.config) {
    log_line(fmt::format("SIGHUP: config rejected, the running config stays: {}", parsed.message));
  } else {
    for (const std::string& note : server.reload(std::move(*parsed.config)))
      log_line(fmt::format("SIGHUP: {}", note));
    log_line("SIGHUP: config reloaded; new connections use it");
    installed = true;
  }
  notify_service_manager(fmt::format(
      "{}\n{}", kNotifyReady,
      notify_status(installed ? "serving (config reloaded)" : "serving (reload rejected)")));
  return installed;
}

void reopen_logs(Server& server) {
  if (std::string error = server.reopen_logs(); !error.empty()) {
    log_line(fmt::format("SIGUSR1: {}; still writing to the old file", error));
  } else {
    log_line("SIGUSR1: access log reopened");
  }
}

}  // namespace cacheproxy
