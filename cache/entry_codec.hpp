// The on-disk encoding of EntryMeta: a versioned, checksummed binary record.
//
// Layout (version 2), all integers unsigned LEB128 varints unless noted:
//   magic 0xCE, version 0x02
//   status
//   header count, then per field:
//     name code: 1 + the name's index in a table of common field names (entry_codec.cpp)
//                if it is spelled exactly as there, else 0 followed by name length, name
//     value code: 2 x seconds since the epoch + 1 if the value is exactly the IMF-fixdate
//                 format_http_date() writes for them (Date, Last-Modified, Expires), else
//                 2 x value length followed by the value
//   vary request header count, then the same per field
//   request_time, response_time: 8 bytes each, little-endian two's complement
//                                microseconds since the Unix epoch
//   body_size, body_id
//   CRC-32 (IEEE 802.3) of every preceding byte: 4 bytes, little-endian
//
// Field order and duplicates are kept exactly as Fields iterates them. Times are
// truncated to microseconds. Version 2 stores a typical response's fields in about half the
// bytes of version 1 (which spelled every name and date out), and every stored byte counts
// against the cache's budget; a version 1 record does not decode (the store that held it is
// discarded at open, leveldb_layout.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

// Returns the encoding of meta. decode_entry_meta(encode_entry_meta(m)) equals m with its
// times truncated to microseconds.
std::string encode_entry_meta(const EntryMeta& meta);

// Returns the decoded metadata, or nullopt if data is not exactly one well-formed record:
// wrong magic or version, truncated, trailing bytes, bad checksum, non-minimal varints,
// lengths or times out of range, or field values Fields would alter (surrounding
// spaces or tabs), field names that are not tokens, values holding CR, LF or NUL. Never throws on any input and never reads outside data.
std::optional<EntryMeta> decode_entry_meta(std::string_view data);

// CRC-32 (IEEE 802.3, the zlib polynomial) of data. crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(std::string_view data);

}  // namespace cacheproxy::cache
