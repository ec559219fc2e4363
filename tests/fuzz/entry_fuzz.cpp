// libFuzzer target: bytes read back from the cache's LevelDB (which a crash, a full disk or
// another program may have damaged) through the entry decoder. A record that decodes must
// re-encode to exactly the same bytes (the encoding is canonical), and its header fields go
// through the response policy's parsers the way a cache hit would.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cache/cache_control.hpp"
#include "cache/entry_codec.hpp"

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void decode(std::string_view input) {
  std::optional<cacheproxy::cache::EntryMeta> meta = cacheproxy::cache::decode_entry_meta(input);
  if (meta) {
    require(cacheproxy::cache::encode_entry_meta(*meta) == input);
    (void)cacheproxy::cache::parse_response_cache_control(meta->headers);
    for (const auto& field : meta->headers) {
      (void)cacheproxy::cache::parse_http_date(field.value());
      (void)cacheproxy::cache::parse_delta_seconds(field.value());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  decode(input);
  // Random bytes almost never carry a valid CRC, which would stop the fuzzer at the checksum:
  // the same input with its last four bytes replaced by the right CRC-32 (little-endian)
  // reaches the field decoding behind it.
  if (size >= 4) {
    std::string fixed(input);
    std::uint32_t crc = cacheproxy::cache::crc32(std::string_view(fixed).substr(0, size - 4));
    for (int i = 0; i < 4; ++i)
      fixed[size - 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
    decode(fixed);
  }
  // The same bytes as header values, which is what the parsers see on a miss.
  const auto date = cacheproxy::cache::parse_http_date(input);
  // A date read by the shortcut for canonical IMF-fixdates is one the general parser reads
  // alike (a leading space sends the text past the shortcut).
  if (cacheproxy::cache::canonical_fixdate_seconds(input)) {
    require(date == cacheproxy::cache::parse_http_date(" " + std::string(input)));
  }
  (void)cacheproxy::cache::parse_delta_seconds(input);
  (void)cacheproxy::cache::split_list(input);
  return 0;
}
