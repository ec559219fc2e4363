#include "proxy/access_log.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace cacheproxy {

namespace {

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
// Runs of ordinary characters are appended whole: this runs for several fields of every line.
void append_field(fmt::memory_buffer& out, std::string_view value) {
  if (value.empty()) {
    out.push_back('-');
    return;
  }
  if (has_no_control_or_space(value)) {
    out.append(value.data(), value.data() + value.size());
    return;
  }
  auto special = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  const char* run = value.data();
  const char* const end = value.data() + value.size();
  for (const char* p = run; p != end; ++p) {
    if (!special(*p)) continue;
    out.append(run, p);
    fmt::format_to(std::back_inserter(out), "%{:02X}", static_cast<unsigned char>(*p));
    run = p + 1;
  }
  out.append(run, end);
}

// Appends a decimal number: fmt::format_int, no format string to parse on every line.
void append_number(fmt::memory_buffer& out, std::uint64_t value) {
  fmt::format_int digits(value);
  out.append(digits.data(), digits.data() + digits.size());
}

// Appends value right-aligned in width characters.
void append_padded(fmt::memory_buffer& out, std::uint64_t value, std::size_t width, char fill) {
  fmt::format_int digits(value);
  for (std::size_t i = digits.size(); i < width; ++i) out.push_back(fill);
  out.append(digits.data(), digits.data() + digits.size());
}

}  // namespace

void append_access_line(fmt::memory_buffer& out, const AccessRecord& r) {
  using namespace std::chrono;
  // Written on every request: plain appends rather than a format string.
  auto since_epoch = duration_cast<milliseconds>(r.finished.time_since_epoch()).count();
  const auto elapsed = r.elapsed.count();
  append_number(out, static_cast<std::uint64_t>(since_epoch / 1000));
  out.push_back('.');
  append_padded(out, static_cast<std::uint64_t>(since_epoch % 1000), 3, '0');
  out.push_back(' ');
  append_padded(out, static_cast<std::uint64_t>(elapsed < 0 ? 0 : elapsed), 6, ' ');
  out.push_back(' ');
  append_field(out, r.client);
  out.push_back(' ');
  std::string_view code = to_string(r.code);
  out.append(code.data(), code.data() + code.size());
  out.push_back('/');
  append_padded(out, r.status, 3, '0');
  out.push_back(' ');
  append_number(out, r.bytes);
  out.push_back(' ');
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
}

std::string format_access_line(const AccessRecord& r) {
  fmt::memory_buffer out;
  append_access_line(out, r);
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
  // Formatted outside the lock, into a buffer each thread keeps: no allocation per line.
  thread_local fmt::memory_buffer line;
  line.clear();
  append_access_line(line, r);
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
