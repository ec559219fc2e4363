// CRC-32C (Castagnoli), the checksum LevelDB and ext4 use: one per body extent in the segment
// files (body_segments.hpp), checked before any byte of it is served.
#pragma once

#include <cstdint>
#include <string_view>

namespace cacheproxy::cache {

// The CRC-32C of data, continuing from crc (the CRC of the bytes before data, 0 at the start).
// Uses the CPU's CRC32 instruction when it has one (SSE4.2), on three interleaved streams:
// 0.7 µs per 16 KiB here (~24 GB/s), against 1.7 µs on one stream and ~16 µs for the table.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace cacheproxy::cache
