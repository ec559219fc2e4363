#include "proxy/access_log.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace cacheproxy {

namespace {

// Squid writes "-" for an empty field; a space inside a field would shift every later one.
void append_field(fmt::memory_buffer& out, std::string_view value) {
  if (value.empty()) {
    out.push_back('-');
    return;
  }
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      fmt::format_to(std::back_inserter(out), "%{:02X}", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

std::string format_access_line(const AccessRecord& r) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<milliseconds>(r.finished.time_since_epoch()).count();
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "{}.{:03} {:>6} ", since_epoch / 1000, since_epoch % 1000, r.elapsed.count());
  append_field(out, r.client);
  fmt::format_to(it, " {}/{:03} {} ", to_string(r.code), r.status, r.bytes);
  append_field(out, r.method);
  out.push_back(' ');
  append_field(out, r.url);
  out.push_back(' ');
  append_field(out, r.user);
  out.push_back(' ');
  append_field(out, r.hierarchy.empty() ? std::string_view("HIER_NONE") : r.hierarchy);
  out.push_back('/');
  append_field(out, r.peer);
  out.push_back(' ');
  // A media type keeps its parameters in Squid's log, joined without spaces.
  append_field(out, r.mime);
  out.push_back('\n');
  return fmt::to_string(out);
}

std::string AccessLog::open_file(const std::string& path, std::FILE** file, bool* owned) {
  *file = nullptr;
  *owned = false;
  if (path.empty() || path == "none") return {};
  if (path == "-") {
    *file = stdout;
    return {};
  }
  *file = std::fopen(path.c_str(), "a");
  if (*file == nullptr)
    return fmt::format("cannot open access log '{}': {}", path, std::strerror(errno));
  *owned = true;
  return {};
}

AccessLog::AccessLog(const std::string& path, std::string* error) {
  std::string message = open_file(path, &file_, &owned_);
  if (error) *error = message;
  writer_ = std::thread([this] { run_writer(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_one();
  writer_.join();
  write_pending();
  if (owned_) std::fclose(file_);
}

std::string AccessLog::reopen(const std::string& path) {
  std::FILE* file = nullptr;
  bool owned = false;
  if (std::string error = open_file(path, &file, &owned); !error.empty()) return error;
  // Lines queued before the reopen belong to the old file (logrotate's renamed one).
  std::lock_guard lock(file_mutex_);
  {
    std::lock_guard queue_lock(queue_mutex_);
    std::string lines = std::move(pending_);
    pending_.clear();
    if (file_ != nullptr && !lines.empty()) {
      std::fwrite(lines.data(), 1, lines.size(), file_);
      std::fflush(file_);
    }
  }
  if (owned_) std::fclose(file_);
  file_ = file;
  owned_ = owned;
  return {};
}

void AccessLog::write(const AccessRecord& r) {
  std::string line = format_access_line(r);
  bool wake = false;
  {
    std::lock_guard lock(queue_mutex_);
    // The writer sleeps while nothing waits; the first line of a batch wakes it, and so does a
    // batch grown large enough to write at once.
    wake = pending_.empty();
    pending_ += line;
    wake = wake || pending_.size() >= kFlushBytes;
  }
  if (wake) queue_changed_.notify_one();
}

void AccessLog::flush() { write_pending(); }

void AccessLog::run_writer() {
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      queue_changed_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;  // the destructor writes what is left
      // Let the batch gather, so a busy proxy writes a few times a second, not per request.
      queue_changed_.wait_for(lock, kFlushDelay,
                              [this] { return stopping_ || pending_.size() >= kFlushBytes; });
    }
    write_pending();
  }
}

void AccessLog::write_pending() {
  std::lock_guard lock(file_mutex_);
  std::string lines;
  {
    std::lock_guard queue_lock(queue_mutex_);
    lines.swap(pending_);
  }
  if (file_ == nullptr || lines.empty()) return;
  std::fwrite(lines.data(), 1, lines.size(), file_);
  std::fflush(file_);
}

}  // namespace cacheproxy
