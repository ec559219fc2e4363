// Appending the pieces of an HTTP/1.x header to a buffer: the hand-written writers of the hot
// paths (whole_object_response, relay_header) format with plain appends, not format strings.
#pragma once

#include <fmt/format.h>

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

inline void append_number(fmt::memory_buffer& out, std::uint64_t value) {
  fmt::format_int digits(value);
  append(out, std::string_view(digits.data(), digits.size()));
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
