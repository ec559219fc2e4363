// The access log in Squid's native format, so existing Squid log analyzers read it:
//   time.ms elapsed client CODE/status bytes method URL user HIER/peer mime
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

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

// Lines are formatted by the thread that finished the request and written by the log's own
// thread in batches (at most kFlushDelay late, or sooner once kFlushBytes are waiting): a
// write and flush per request would cost a system call on every hit. Whole lines reach the
// file at once, in the order the requests finished.
class AccessLog {
 public:
  static constexpr std::chrono::milliseconds kFlushDelay{50};
  static constexpr std::size_t kFlushBytes = 64 * 1024;

  // path: a file to append to, "-" for stdout, "none" or empty to discard.
  // Sets *error and leaves the log disabled if the file cannot be opened.
  explicit AccessLog(const std::string& path, std::string* error = nullptr);
  // Writes every line still waiting.
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Queues the record's line; never waits for the disk.
  void write(const AccessRecord& r);
  // Writes every queued line now (tests, shutdown).
  void flush();

  // Closes the file and opens `path` (the same one after logrotate renamed it, on SIGUSR1, or a
  // new one on reload). Returns an error message, empty on success; on failure the old file
  // stays open, so no line is lost.
  std::string reopen(const std::string& path);

 private:
  // Opens path as the constructor describes: *file is nullptr for "none", stdout for "-".
  static std::string open_file(const std::string& path, std::FILE** file, bool* owned);

  // The writer thread: waits for lines, lets a batch gather, writes it.
  void run_writer();
  // Takes every queued line and writes it to the current file. Taking and writing happen
  // under file_mutex_, so batches reach the file in the order they were queued.
  void write_pending();

  // Held while a batch is taken and written, and while reopen() swaps the file.
  std::mutex file_mutex_;
  std::FILE* file_ = nullptr;  // guarded by file_mutex_
  bool owned_ = false;         // guarded by file_mutex_
  std::string writing_;        // guarded by file_mutex_: the batch being written

  std::mutex queue_mutex_;  // taken after file_mutex_ when both are held
  std::condition_variable queue_changed_;
  std::string pending_;    // guarded by queue_mutex_: formatted lines not yet written
  bool stopping_ = false;  // guarded by queue_mutex_
  std::thread writer_;     // last: started once every member above is ready
};

}  // namespace cacheproxy
