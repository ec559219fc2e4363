#include "cache/crc32c.hpp"

#include <catch2/catch.hpp>
#include <string>

namespace cacheproxy::cache {
namespace {

// Bit at a time, straight from the definition: what the fast paths must agree with.
std::uint32_t reference_crc32c(std::string_view data) {
  std::uint32_t crc = 0xFFFFFFFF;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
  }
  return ~crc;
}

TEST_CASE("crc32c matches the standard check values", "[crc32c]") {
  REQUIRE(crc32c("123456789") == 0xE3069283u);
  REQUIRE(crc32c("") == 0u);
  REQUIRE(crc32c(std::string(32, '\0')) == 0x8A9136AAu);  // RFC 3720 B.4
  REQUIRE(crc32c(std::string(32, '\xFF')) == 0x62A8AB43u);
}

TEST_CASE("crc32c agrees with the definition at every length and split", "[crc32c]") {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (std::size_t n = 0; n <= data.size(); n += 7) {
    const std::string_view part = std::string_view(data).substr(0, n);
    INFO(n);
    REQUIRE(crc32c(part) == reference_crc32c(part));
    const std::size_t split = n / 3;
    REQUIRE(crc32c(part.substr(split), crc32c(part.substr(0, split))) == crc32c(part));
  }
}

TEST_CASE("crc32c agrees with the definition over its interleaved blocks", "[crc32c]") {
  // Bodies are checksummed in interleaved 3 x 512-byte blocks: lengths around and across
  // those blocks, from every start, against the definition and across splits.
  std::string data;
  for (int i = 0; i < 20'000; ++i) data.push_back(static_cast<char>((i * 2654435761u) >> 13));
  for (std::size_t n : {1535u, 1536u, 1537u, 3071u, 3072u, 3080u, 4608u, 16'384u, 20'000u}) {
    for (std::size_t start : {0u, 1u, 5u}) {
      if (start + n > data.size()) continue;
      const std::string_view part = std::string_view(data).substr(start, n);
      INFO(n << " bytes from " << start);
      REQUIRE(crc32c(part) == reference_crc32c(part));
      const std::size_t split = n / 3 + 1;
      REQUIRE(crc32c(part.substr(split), crc32c(part.substr(0, split))) == crc32c(part));
    }
  }
}

}  // namespace
}  // namespace cacheproxy::cache
