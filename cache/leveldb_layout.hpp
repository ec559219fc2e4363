// The key layout of the LevelDB store, shared by the store and by tests that inspect or damage
// its records directly.
//
// Key layout, format 2 (K is the cache key, <n> a big-endian integer of n bytes):
//   !format                <8> the layout version, kFormatVersion. A store without it (format
//                          1, which repeated K in every chunk and use key), with format 2
//                          (chunk bytes in the chunk records) or another version is discarded
//                          at open, segment files included: it is a cache.
//   m/K                    encoded EntryMeta (entry_codec.hpp), which names the entry's body
//                          id; its presence makes K visible. The only record holding K.
//   u/<8>id                for the entry whose current body is id: <8> last-use sequence
//                          number, so recency survives a restart, then <4> frequency <8>
//                          priority (IEEE double bits): the policy's EvictionRank
//   b/<8>id<4>index        where one chunk of body id is (chunk_bytes, except the last chunk):
//                          an encoded BodyExtent (body_segments.hpp), <4> segment <8> offset
//                          <4> length <4> CRC-32C, naming bytes in a segment file
//   i/<8>id                (empty) an insert under body id has written chunks but not
//                          committed
//   !chunk_bytes           <8> the chunk size, fixed when the store is created
//   !body_id_limit         <8> body ids below it may have been handed out
//   !policy_state          the eviction policy's save_state(), written on close by stores
//                          before it moved to the file kPolicyStateFile; read once, deleted
//   !orphans               (empty) some body's meta was lost (a damaged record): the next
//                          open deletes every chunk and use record no meta names
// Body ids are never reused, so records keyed by id need not repeat K: an entry costs its
// key once. Per entry that is 2 + |K| + |meta| + 30 + 34 per chunk bytes besides its body
// (format 1: 2 + |K| + |meta| + 22 + |K| + (15 + |K|) per chunk).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cacheproxy::cache::leveldb_layout {

inline constexpr std::string_view kMetaPrefix = "m/";
inline constexpr std::string_view kUsePrefix = "u/";
inline constexpr std::string_view kBodyPrefix = "b/";
inline constexpr std::string_view kIntentPrefix = "i/";
inline constexpr std::string_view kChunkBytesKey = "!chunk_bytes";
inline constexpr std::string_view kBodyIdLimitKey = "!body_id_limit";
inline constexpr std::string_view kPolicyStateKey = "!policy_state";
// Beside the database: the policy's state, written on a clean close, removed when loaded.
inline constexpr std::string_view kPolicyStateFile = "policy_state";
inline constexpr std::string_view kOrphansKey = "!orphans";
inline constexpr std::string_view kFormatKey = "!format";
inline constexpr std::uint64_t kFormatVersion = 3;
// A use record's value: sequence, frequency, priority.
inline constexpr std::size_t kUseValueBytes = 8 + 4 + 8;
inline constexpr std::size_t kBodyIdBytes = 8;
inline constexpr std::size_t kChunkIndexBytes = 4;
// A chunk record's value: an encoded BodyExtent (kBodyExtentBytes in body_segments.hpp).
inline constexpr std::size_t kChunkPointerBytes = 4 + 8 + 4 + 4;

inline void put_big_endian(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Returns false unless s is exactly 8 bytes.
inline bool get_big_endian64(std::string_view s, std::uint64_t* v) {
  if (s.size() != 8) return false;
  std::uint64_t r = 0;
  for (char c : s) r = (r << 8) | static_cast<unsigned char>(c);
  *v = r;
  return true;
}

inline std::string fixed64(std::uint64_t v) {
  std::string s;
  put_big_endian(s, v, 8);
  return s;
}

inline std::string prefixed(std::string_view prefix, std::string_view key) {
  std::string s;
  s.reserve(prefix.size() + key.size());
  s.append(prefix).append(key);
  return s;
}

inline std::string meta_key(std::string_view key) { return prefixed(kMetaPrefix, key); }
inline std::string use_key(std::uint64_t body_id) { return prefixed(kUsePrefix, fixed64(body_id)); }
inline std::string intent_key(std::uint64_t body_id) {
  return prefixed(kIntentPrefix, fixed64(body_id));
}

// "b/<id>": the prefix of every chunk of body id.
inline std::string body_prefix(std::uint64_t body_id) {
  return prefixed(kBodyPrefix, fixed64(body_id));
}

inline std::string chunk_key(std::uint64_t body_id, std::uint64_t index) {
  std::string s = body_prefix(body_id);
  put_big_endian(s, index, kChunkIndexBytes);
  return s;
}

inline std::uint64_t chunk_count(std::uint64_t body_size, std::size_t chunk_bytes) {
  return body_size / chunk_bytes + (body_size % chunk_bytes != 0 ? 1 : 0);
}

// What an entry counts against the budget: its body bytes (in a segment file) and exactly the
// keys and values of the records it keeps in LevelDB (its meta, its use record and its
// body's chunk pointers). LevelDB's own per-record bookkeeping is not counted.
inline std::uint64_t charged_bytes(std::size_t key_size, std::uint64_t body_size,
                                   std::size_t meta_size, std::size_t chunk_bytes) {
  const std::uint64_t meta_record = kMetaPrefix.size() + key_size + meta_size;
  const std::uint64_t use_record = kUsePrefix.size() + kBodyIdBytes + kUseValueBytes;
  const std::uint64_t chunk_record =
      kBodyPrefix.size() + kBodyIdBytes + kChunkIndexBytes + kChunkPointerBytes;
  return body_size + meta_record + use_record + chunk_count(body_size, chunk_bytes) * chunk_record;
}

}  // namespace cacheproxy::cache::leveldb_layout
