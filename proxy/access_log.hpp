// The access log in Squid's native format, so existing Squid log analyzers read it:
//   time.ms elapsed client CODE/status bytes method URL user HIER/peer mime
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "proxy/stats.hpp"

namespace cacheproxy {

struct AccessRecord {
  std::chrono::system_clock::time_point finished;
  std::chrono::milliseconds elapsed{0};
  std::string_view client;  // client IP address
  ResultCode code = ResultCode::none;
  unsigned status = 0;      // status sent to the client (0 if none was sent)
  std::uint64_t bytes = 0;  // bytes sent to the client, header included
  std::string_view method;
  std::string_view url;
  std::string_view user;       // authenticated user, empty for none
  std::string_view hierarchy;  // HIER_DIRECT, HIER_NONE
  std::string_view peer;       // origin address contacted, empty for none
  std::string_view mime;       // response Content-Type, empty for none
};

// Formats one line (with trailing newline). Fields that could hold spaces are escaped
// so a line always splits into exactly ten fields.
std::string format_access_line(const AccessRecord& r);

class AccessLog {
 public:
  // path: a file to append to, "-" for stdout, "none" or empty to discard.
  // Sets *error and leaves the log disabled if the file cannot be opened.
  explicit AccessLog(const std::string& path, std::string* error = nullptr);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& r);

  // Closes the file and opens `path` (the same one after logrotate renamed it, on SIGUSR1, or a
  // new one on reload). Returns an error message, empty on success; on failure the old file
  // stays open, so no line is lost.
  std::string reopen(const std::string& path);

 private:
  // Opens path as the constructor describes: *file is nullptr for "none", stdout for "-".
  static std::string open_file(const std::string& path, std::FILE** file, bool* owned);

  std::mutex mutex_;
  std::FILE* file_ = nullptr;  // guarded by mutex_
  bool owned_ = false;
};

}  // namespace cacheproxy
