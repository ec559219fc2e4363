// cacheproxy: arguments and config, signals, and the periodic summary line. The serving
// itself lives in Server.
#include <fmt/format.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <ctime>

#include "proxy/config.hpp"
#include "proxy/logging.hpp"
#include "proxy/reload.hpp"
#include "proxy/sd_notify.hpp"
#include "proxy/server.hpp"

using cacheproxy::log_line;

int main(int argc, char** argv) {
  cacheproxy::ConfigResult parsed = cacheproxy::parse_config(argc, argv);
  if (!parsed.config) {
    std::FILE* out = parsed.exit_code == 0 ? stdout : stderr;
    fmt::print(out, "{}{}", parsed.message, parsed.message.ends_with('\n') ? "" : "\n");
    return parsed.exit_code;
  }
  if (parsed.check_only) {
    fmt::print("config OK\n");
    return 0;
  }

  // Signals are taken synchronously by this thread with sigtimedwait; every other thread
  // inherits the blocked mask, so none of them is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // Each client and origin connection is a descriptor: take the hard limit, not the soft
  // default of 1024, so max_connections can be reached.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  cacheproxy::Server server(*parsed.config);
  if (std::string error = server.start(); !error.empty()) {
    log_line(error);
    return 1;
  }
  const auto& config = server.config();
  for (std::size_t i = 0; i < config.listen.size(); ++i) {
    log_line(fmt::format("listening on {}:{}", config.listen[i].host, server.ports()[i]));
  }
  log_line(fmt::format("cache in {} ({} bytes on disk, {} in memory)", config.cache_dir,
                       config.cache_size, config.memory_cache_size));
  // Under systemd (Type=notify) the unit becomes active, and its dependents start, only now.
  std::string ready =
      fmt::format("{}\n{}", cacheproxy::kNotifyReady, cacheproxy::notify_status("serving"));
  if (auto notified = cacheproxy::notify_service_manager(ready);
      notified.outcome == cacheproxy::NotifyOutcome::failed)
    log_line(notified.message);

  for (;;) {
    // The live config: a reload may have changed the interval.
    auto interval =
        std::chrono::duration_cast<std::chrono::seconds>(server.live_config()->stats_interval);
    timespec wait{static_cast<time_t>(std::max<long>(1, interval.count())), 0};
    int signal = sigtimedwait(&signals, nullptr, &wait);
    if (signal == SIGINT || signal == SIGTERM) {
      log_line(fmt::format("signal {}: finishing in-flight requests", signal));
      std::string stopping = fmt::format("{}\n{}", cacheproxy::kNotifyStopping,
                                         cacheproxy::notify_status("finishing in-flight requests"));
      cacheproxy::notify_service_manager(stopping);
      break;
    }
    if (signal == SIGHUP) {  // systemctl reload
      cacheproxy::reload_config(server, argc, argv);
      continue;
    }
    if (signal == SIGUSR1) {  // logrotate has renamed the log
      cacheproxy::reopen_logs(server);
      continue;
    }
    log_line(cacheproxy::summary_line(server.stats().snapshot()));
  }
  server.stop();
  log_line(fmt::format("stopped; {}", cacheproxy::summary_line(server.stats().snapshot())));
  return 0;
}
