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
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(file_);
}

std::string AccessLog::reopen(const std::string& path) {
  std::FILE* file = nullptr;
  bool owned = false;
  if (std::string error = open_file(path, &file, &owned); !error.empty()) return error;
  std::lock_guard lock(mutex_);
  if (owned_) std::fclose(file_);
  file_ = file;
  owned_ = owned;
  return {};
}

void AccessLog::write(const AccessRecord& r) {
  std::string line = format_access_line(r);
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return;
  std::fwrite(line.data(), 1, line.size(), file_);
  // Whole lines reach the file at once, so a tail -f or an analyzer never sees half a line.
  std::fflush(file_);
}

}  // namespace cacheproxy
