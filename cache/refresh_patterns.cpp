#include "cache/refresh_patterns.hpp"

#include <fmt/format.h>

#include <regex.h>

#include <charconv>

namespace cacheproxy::cache {

struct UrlRegex::Compiled {
  regex_t regex{};
  ~Compiled() { regfree(&regex); }
};

std::optional<UrlRegex> UrlRegex::compile(const std::string& pattern, bool icase,
                                          std::string* error) {
  regex_t regex{};
  int flags = REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0);
  if (int rc = regcomp(&regex, pattern.c_str(), flags); rc != 0) {
    char message[256];
    regerror(rc, &regex, message, sizeof message);
    *error = message;
    return std::nullopt;  // regcomp leaves nothing to free on failure
  }
  // The compiled form is owned from here on; only this copy is ever freed.
  auto compiled = std::make_shared<Compiled>();
  compiled->regex = regex;
  UrlRegex out;
  out.compiled_ = std::move(compiled);
  return out;
}

bool UrlRegex::search(std::string_view text) const {
  // regexec wants a NUL-terminated string; URLs are short, one copy per check is fine.
  std::string terminated(text);
  return regexec(&compiled_->regex, terminated.c_str(), 0, nullptr, 0) == 0;
}

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    std::size_t end = line.find_first_of(" \t");
    out.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  return out;
}

template <class T>
std::optional<T> number(std::string_view text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::optional<RefreshPattern> parse_refresh_pattern(std::string_view line, std::string* error) {
  std::vector<std::string_view> w = words(line);
  bool icase = !w.empty() && w.front() == "-i";
  if (icase) w.erase(w.begin());
  if (w.size() != 4) {
    *error = fmt::format("'{}': expected [-i] REGEX MIN PERCENT MAX", line);
    return std::nullopt;
  }
  auto min = number<long>(w[1]);
  auto percent = number<double>(w[2]);
  auto max = number<long>(w[3]);
  if (!min || !percent || !max || *min > *max) {
    *error = fmt::format("'{}': MIN and MAX are minutes (MIN <= MAX), PERCENT a number", line);
    return std::nullopt;
  }
  RefreshPattern pattern;
  pattern.source = std::string(line);
  std::string regex_error;
  pattern.regex = UrlRegex::compile(std::string(w[0]), icase, &regex_error);
  if (!pattern.regex) {
    *error = fmt::format("'{}': invalid regular expression: {}", line, regex_error);
    return std::nullopt;
  }
  pattern.rules.min_lifetime = std::chrono::minutes(*min);
  pattern.rules.max_lifetime = std::chrono::minutes(*max);
  pattern.rules.last_modified_factor = *percent / 100.0;
  return pattern;
}

const HeuristicRules& heuristic_for(const std::vector<RefreshPattern>& patterns,
                                    std::string_view url, const HeuristicRules& fallback) {
  for (const RefreshPattern& pattern : patterns) {
    if (pattern.regex && pattern.regex->search(url)) return pattern.rules;
  }
  return fallback;
}

}  // namespace cacheproxy::cache
