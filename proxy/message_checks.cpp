#include "proxy/message_checks.hpp"

#include <boost/beast/core/string.hpp>
#include <charconv>
#include <string>

#include "cache/header_fields.hpp"

namespace cacheproxy {

namespace http = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f on every element of one line of a comma-separated list field.
template <class F>
void for_each_element_of(std::string_view value, F&& f) {
  while (true) {
    std::size_t comma = value.find(',');
    f(trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// Calls f on every element of every line of a comma-separated list field.
template <class F>
void for_each_element(const Fields& fields, http::field name, F&& f) {
  auto [begin, end] = fields.equal_range(name);
  for (auto it = begin; it != end; ++it) for_each_element_of(it->value(), f);
}

}  // namespace

FramingCheck check_framing(const Fields& fields) {
  // One pass over the lines rather than a lookup per field: every request and every origin
  // response comes through here.
  bool has_length = false;
  bool has_coding = false;
  std::optional<std::string_view> first_length;
  bool lengths_consistent = true;
  std::string_view last_coding;
  for (const auto& line : fields) {
    if (line.name() == http::field::content_length) {
      has_length = true;
      for_each_element_of(line.value(), [&](std::string_view value) {
        std::uint64_t n = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
          lengths_consistent = false;
        } else if (first_length && *first_length != value) {
          lengths_consistent = false;
        } else {
          first_length = value;
        }
      });
    } else if (line.name() == http::field::transfer_encoding) {
      has_coding = true;
      for_each_element_of(line.value(), [&](std::string_view coding) { last_coding = coding; });
    }
  }
  if (has_length && has_coding) return {false, "both Content-Length and Transfer-Encoding"};
  if (has_length && !lengths_consistent) {
    return {false, "invalid or differing Content-Length values"};
  }
  if (has_coding && !boost::beast::iequals(last_coding, "chunked"))
    return {false, "Transfer-Encoding whose final coding is not chunked"};
  return {};
}

bool via_names_self(const Fields& fields, std::string_view visible_hostname) {
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

std::optional<unsigned> max_forwards(const Fields& fields) {
  auto it = fields.find(http::field::max_forwards);
  if (it == fields.end()) return std::nullopt;
  std::string_view value = trim(it->value());
  unsigned n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return n;
}

}  // namespace cacheproxy
