// URLs built at random, but the same on every run, from pieces near the edges of a shortcut
// for URLs already in normal form: tests check such a shortcut against Boost.URL's parser.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cacheproxy::testing {

struct UrlPieces {
  // Half the time a URL takes the first of each, the common case.
  std::vector<std::string> starts, hosts, ports;
  std::vector<std::string> plain;    // path and query pieces a normal URL may hold
  std::vector<std::string> special;  // pieces that send it to the parser
};

// `count` URLs: a start, a host and a port, then usually a '/', then up to seven pieces, one
// in eight of them special.
inline std::vector<std::string> generated_urls(const UrlPieces& pieces, int count,
                                               std::uint64_t seed) {
  std::uint64_t state = seed;
  auto next = [&state](std::size_t n) {  // xorshift64
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<std::size_t>(state % n);
  };
  auto common_or_any = [&next](const std::vector<std::string>& choices) -> const std::string& {
    return choices[next(2) == 0 ? 0 : next(choices.size())];
  };
  std::vector<std::string> urls;
  for (int i = 0; i < count; ++i) {
    std::string url =
        common_or_any(pieces.starts) + common_or_any(pieces.hosts) + common_or_any(pieces.ports);
    if (next(4) != 0) url += '/';
    const std::size_t length = next(8);
    for (std::size_t j = 0; j < length; ++j) {
      url += next(8) == 0 ? pieces.special[next(pieces.special.size())]
                          : pieces.plain[next(pieces.plain.size())];
    }
    urls.push_back(std::move(url));
  }
  return urls;
}

}  // namespace cacheproxy::testing
