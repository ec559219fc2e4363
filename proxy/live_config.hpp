// The config in force, replaced whole when SIGHUP reloads the file. Readers take a snapshot
// (a shared pointer to an immutable Config) and keep it as long as they need one consistent
// view: a client session for its whole connection, the origin pool for one call.
#pragma once

#include <memory>
#include <mutex>

#include "proxy/config.hpp"

namespace cacheproxy {

class LiveConfig {
 public:
  explicit LiveConfig(Config config)
      : current_(std::make_shared<const Config>(std::move(config))) {}

  std::shared_ptr<const Config> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  // Sessions already running keep the snapshot they took; new ones see `config`.
  void set(std::shared_ptr<const Config> config) {
    std::lock_guard lock(mutex_);
    current_ = std::move(config);
  }

 private:
  mutable std::mutex mutex_;  // held only to copy or swap the pointer
  std::shared_ptr<const Config> current_;
};

}  // namespace cacheproxy
