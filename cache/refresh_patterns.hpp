// Per-URL heuristic freshness rules, like Squid's refresh_pattern: the first pattern whose
// regular expression matches the URL gives min, percent and max for the heuristic lifetime
// (RFC 9111 §4.2.2); URLs no pattern matches keep the global rules. Pure.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/freshness.hpp"

namespace cacheproxy::cache {

// A compiled POSIX extended regular expression (regcomp, as Squid's refresh_pattern uses),
// shared between copies of a config; matching does not modify it, so threads may share it.
class UrlRegex {
 public:
  // Compiles `pattern`; on failure returns nullopt and sets *error to regerror's text.
  static std::optional<UrlRegex> compile(const std::string& pattern, bool icase,
                                         std::string* error);
  // True if the expression matches anywhere in `text`.
  bool search(std::string_view text) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

struct RefreshPattern {
  std::string source;  // the line as configured, for messages
  std::optional<UrlRegex> regex;
  HeuristicRules rules;
};

// Parses "[-i] REGEX MIN PERCENT MAX" (Squid's order and units: MIN and MAX in minutes,
// PERCENT of the time since Last-Modified; POSIX extended regular expression, -i for case
// insensitive). On failure returns nullopt and sets *error.
std::optional<RefreshPattern> parse_refresh_pattern(std::string_view line, std::string* error);

// The rules for `url`: the first matching pattern's, else `fallback`.
const HeuristicRules& heuristic_for(const std::vector<RefreshPattern>& patterns,
                                    std::string_view url, const HeuristicRules& fallback);

}  // namespace cacheproxy::cache
