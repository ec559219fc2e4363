#include "proxy/logging.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <string>

namespace cacheproxy {

void log_line(std::string_view message) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fmt::print(stderr, "{} cacheproxy: {}\n", stamp, message);
  std::fflush(stderr);
}

void log_line_limited(std::string_view topic, std::string_view message) {
  struct Window {
    std::chrono::steady_clock::time_point start;
    unsigned suppressed = 0;
  };
  static std::mutex mutex;
  static std::map<std::string, Window, std::less<>> windows;
  auto now = std::chrono::steady_clock::now();
  unsigned suppressed = 0;
  {
    std::lock_guard lock(mutex);
    auto [it, fresh] = windows.try_emplace(std::string(topic), Window{now, 0});
    if (!fresh && now - it->second.start < std::chrono::seconds(1)) {
      ++it->second.suppressed;
      return;
    }
    suppressed = fresh ? 0 : it->second.suppressed;
    it->second = Window{now, 0};
  }
  if (suppressed > 0) {
    log_line(fmt::format("{} ({} similar lines left out)", message, suppressed));
  } else {
    log_line(message);
  }
}

}  // namespace cacheproxy
