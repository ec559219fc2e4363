// The cacheproxy executable run as a child process with a config file, for what only the
// real binary does: signals (SIGHUP reload, SIGUSR1 log reopening), its stderr log.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace cacheproxy::testing {

class ProxyProcess {
 public:
  // Starts `cacheproxy --config <config>` with stderr to <dir>/proxy.log and waits until
  // `port` accepts connections (throws if it does not within 10 s).
  ProxyProcess(const std::filesystem::path& config, const std::filesystem::path& dir,
               std::uint16_t port);
  // SIGTERM, then waits for the process.
  ~ProxyProcess();
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  void signal(int number) const;
  pid_t pid() const { return pid_; }
  // The stderr log so far.
  std::string log() const;
  // Waits (up to 10 s) until the log holds `text` at least `count` times; true if it does.
  bool wait_for_log(const std::string& text, int count = 1) const;

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_path_;
};

}  // namespace cacheproxy::testing
