#include "proxy/message_checks.hpp"

#include <boost/beast/core/string.hpp>
#include <charconv>
#include <string>

namespace cacheproxy {

namespace http = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f on every element of every line of a comma-separated list field.
template <class F>
void for_each_element(const http::fields& fields, http::field name, F&& f) {
  auto [begin, end] = fields.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    std::string_view rest = it->value();
    while (true) {
      std::size_t comma = rest.find(',');
      f(trim(rest.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
}

}  // namespace

FramingCheck check_framing(const http::fields& fields) {
  bool has_length = fields.count(http::field::content_length) > 0;
  bool has_coding = fields.count(http::field::transfer_encoding) > 0;
  if (has_length && has_coding) return {false, "both Content-Length and Transfer-Encoding"};
  if (has_length) {
    std::optional<std::string_view> first;
    bool consistent = true;
    for_each_element(fields, http::field::content_length, [&](std::string_view value) {
      std::uint64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
        consistent = false;
      } else if (first && *first != value) {
        consistent = false;
      } else {
        first = value;
      }
    });
    if (!consistent) return {false, "invalid or differing Content-Length values"};
  }
  if (has_coding) {
    std::string_view last;
    for_each_element(fields, http::field::transfer_encoding,
                     [&](std::string_view coding) { last = coding; });
    if (!boost::beast::iequals(last, "chunked"))
      return {false, "Transfer-Encoding whose final coding is not chunked"};
  }
  return {};
}

bool via_names_self(const http::fields& fields, std::string_view visible_hostname) {
  bool found = false;
  for_each_element(fields, http::field::via, [&](std::string_view entry) {
    // entry: received-protocol SP received-by [SP comment]
    std::size_t space = entry.find(' ');
    if (space == std::string_view::npos) return;
    std::string_view by = trim(entry.substr(space + 1));
    by = by.substr(0, by.find(' '));
    if (boost::beast::iequals(by, visible_hostname)) found = true;
  });
  return found;
}

std::optional<unsigned> max_forwards(const http::fields& fields) {
  auto it = fields.find(http::field::max_forwards);
  if (it == fields.end()) return std::nullopt;
  std::string_view value = trim(it->value());
  unsigned n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return n;
}

}  // namespace cacheproxy
