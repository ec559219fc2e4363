#include "proxy/access_log.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cache/background_thread.hpp"
#include "proxy/wire_format.hpp"

namespace cacheproxy {

namespace {

using wire::put_number;
using wire::put_text;

// Whether value has no byte at or below the space: then it has none append_field escapes.
// Sixteen bytes at a time, since every line's URL goes through here.
bool has_no_control_or_space(std::string_view value) {
  const char* p = value.data();
  const char* const end = p + value.size();
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' ');
  for (; end - p >= 16; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // min(byte, ' ') == byte exactly where byte <= ' ' (unsigned).
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(bytes, space), bytes)) != 0) return false;
  }
#endif
  for (; p != end; ++p)
    if (static_cast<unsigned char>(*p) <= ' ') return false;
  return true;
}

// Squid writes "-" for an empty field; a space inside a field would shift every later one.
// Writes at most 3 * value.size() + 1 bytes.
char* put_field(char* out, std::string_view value) {
  if (value.empty()) {
    *out++ = '-';
    return out;
  }
  if (has_no_control_or_space(value)) {
    std::memcpy(out, value.data(), value.size());
    return out + value.size();
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      const auto byte = static_cast<unsigned char>(c);
      *out++ = '%';
      *out++ = kHex[byte >> 4];
      *out++ = kHex[byte & 0xF];
    } else {
      *out++ = c;
    }
  }
  return out;
}

// What write_access_line() may write for r: the numbers, separators and fixed words fit in
// the constant, and an escaped field takes at most three bytes per byte.
std::size_t max_access_line_size(const AccessRecord& r, std::string_view code) {
  return 160 + code.size() +
         3 * (r.client.size() + r.method.size() + r.url.size() + r.user.size() +
              r.hierarchy.size() + r.peer.size() + r.mime.size());
}

// Written on every request: one pass into a buffer sized beforehand, no format string.
char* write_access_line(char* out, const AccessRecord& r, std::string_view code) {
  using namespace std::chrono;
  auto since_epoch = duration_cast<milliseconds>(r.finished.time_since_epoch()).count();
  const auto elapsed = r.elapsed.count();
  out = put_number(out, static_cast<std::uint64_t>(since_epoch / 1000));
  *out++ = '.';
  out = put_number(out, static_cast<std::uint64_t>(since_epoch % 1000), 3, '0');
  *out++ = ' ';
  out = put_number(out, static_cast<std::uint64_t>(elapsed < 0 ? 0 : elapsed), 6, ' ');
  *out++ = ' ';
  out = put_field(out, r.client);
  *out++ = ' ';
  out = put_text(out, code);
  *out++ = '/';
  out = put_number(out, r.status, 3, '0');
  *out++ = ' ';
  out = put_number(out, r.bytes);
  *out++ = ' ';
  out = put_field(out, r.method);
  *out++ = ' ';
  out = put_field(out, r.url);
  *out++ = ' ';
  out = put_field(out, r.user);
  *out++ = ' ';
  out = put_field(out, r.hierarchy.empty() ? std::string_view("HIER_NONE") : r.hierarchy);
  *out++ = '/';
  out = put_field(out, r.peer);
  *out++ = ' ';
  // A media type keeps its parameters in Squid's log, joined without spaces.
  out = put_field(out, r.mime);
  *out++ = '\n';
  return out;
}

// The line in `buffer`, which grows to fit it and is reused: no allocation per line.
std::string_view format_into(std::vector<char>& buffer, const AccessRecord& r) {
  const std::string_view code = to_string(r.code);
  const std::size_t room = max_access_line_size(r, code);
  if (buffer.size() < room) buffer.resize(room);
  const char* end = write_access_line(buffer.data(), r, code);
  return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

}  // namespace

std::string format_access_line(const AccessRecord& r) {
  std::vector<char> buffer;
  return std::string(format_into(buffer, r));
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
  // Formatted outside the lock, into a buffer each thread keeps: no allocation per line.
  thread_local std::vector<char> buffer;
  const std::string_view line = format_into(buffer, r);
  bool wake = false;
  {
    std::lock_guard lock(queue_mutex_);
    // The writer sleeps while nothing waits; the first line of a batch wakes it, and so does a
    // batch grown large enough to write at once.
    wake = pending_.empty();
    pending_.append(line.data(), line.size());
    wake = wake || pending_.size() >= kFlushBytes;
  }
  if (wake) queue_changed_.notify_one();
}

void AccessLog::flush() { write_pending(); }

void AccessLog::run_writer() {
  cache::become_background_thread("cp-access-log");
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
  {
    // pending_ takes over the last batch's emptied buffer: the queue keeps its capacity
    // instead of growing a new string for every batch.
    std::lock_guard queue_lock(queue_mutex_);
    writing_.swap(pending_);
  }
  if (file_ != nullptr && !writing_.empty()) {
    std::fwrite(writing_.data(), 1, writing_.size(), file_);
    std::fflush(file_);
  }
  writing_.clear();
}

}  // namespace cacheproxy
