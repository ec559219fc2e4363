// Writing the pieces of an HTTP/1.x header, or of a log line, without format strings: the
// hand-written writers of the hot paths (whole_object_response, relay_header, access_log).
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace cacheproxy::wire {

// fmt's append copies through a general loop that checks for room as it goes; the pieces
// here are short and the buffer's inline storage almost always has room, so they are copied
// at once then (a dozen of them go into every memory hit's header).
inline void append(fmt::memory_buffer& out, std::string_view text) {
  const std::size_t size = out.size();
  if (out.capacity() - size < text.size()) {
    out.append(text.data(), text.data() + text.size());
    return;
  }
  if (text.empty()) return;  // memcpy must not see the null pointer an empty view may hold
  out.try_resize(size + text.size());
  std::memcpy(out.data() + size, text.data(), text.size());
}

// Into a buffer sized beforehand: each returns the end of what it wrote.
inline char* put_text(char* out, std::string_view text) {
  if (text.empty()) return out;  // memcpy must not see the null pointer an empty view may hold
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// A decimal number, right-aligned in `width` characters padded with `fill`; at most
// max(width, 20) bytes.
inline char* put_number(char* out, std::uint64_t value, std::size_t width = 0,
                        char fill = ' ') {
  char digits[20];
  char* const digits_end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  const auto size = static_cast<std::size_t>(digits_end - digits);
  for (std::size_t i = size; i < width; ++i) *out++ = fill;
  return put_text(out, {digits, size});
}

inline void append_number(fmt::memory_buffer& out, std::uint64_t value) {
  char digits[20];
  append(out, {digits, static_cast<std::size_t>(put_number(digits, value) - digits)});
}

// "HTTP/1.1" for version 11.
inline void append_version(fmt::memory_buffer& out, unsigned version) {
  append(out, "HTTP/");
  append_number(out, version / 10);
  out.push_back('.');
  append_number(out, version % 10);
}

// "name: value\r\n"
inline void append_field(fmt::memory_buffer& out, std::string_view name, std::string_view value) {
  append(out, name);
  append(out, ": ");
  append(out, value);
  append(out, "\r\n");
}

}  // namespace cacheproxy::wire
