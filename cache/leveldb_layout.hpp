// The key layout of the LevelDB store, shared by the store and by tests that inspect or damage
// its records directly.
//
// Key layout (K is the cache key, <n> a big-endian integer of n bytes):
//   m/K                    encoded EntryMeta (entry_codec.hpp); its presence makes K visible
//   u/K                    <8> last-use sequence number, so recency survives a restart,
//                          then <4> frequency <8> priority (IEEE double bits): the
//                          policy's EvictionRank (older stores: the 8 bytes alone)
//   b/K \0 <8>id <4>index  one chunk of body id: chunk_bytes, except the last chunk
//   i/<8>id                K: an insert under body id has written chunks but not committed
//   !chunk_bytes           <8> the chunk size, fixed when the store is created
//   !body_id_limit         <8> body ids below it may have been handed out
//   !policy_state          the eviction policy's save_state(), written on close
// A chunk key is read from the end (fixed-width suffix), so a K holding \0 is unambiguous.
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
// A use record's value: sequence, frequency, priority.
inline constexpr std::size_t kUseValueBytes = 8 + 4 + 8;
inline constexpr std::size_t kChunkSuffixBytes = 1 + 8 + 4;  // \0, body id, chunk index

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
inline std::string use_key(std::string_view key) { return prefixed(kUsePrefix, key); }
inline std::string intent_key(std::uint64_t body_id) {
  return prefixed(kIntentPrefix, fixed64(body_id));
}

// "b/K\0": the prefix of every chunk of every body of K (and of some longer keys).
inline std::string key_bodies_prefix(std::string_view key) {
  std::string s = prefixed(kBodyPrefix, key);
  s.push_back('\0');
  return s;
}

inline std::string body_prefix(std::string_view key, std::uint64_t body_id) {
  std::string s = key_bodies_prefix(key);
  put_big_endian(s, body_id, 8);
  return s;
}

inline std::string chunk_key(std::string_view key, std::uint64_t body_id, std::uint64_t index) {
  std::string s = body_prefix(key, body_id);
  put_big_endian(s, index, 4);
  return s;
}

inline std::uint64_t chunk_count(std::uint64_t body_size, std::size_t chunk_bytes) {
  return body_size / chunk_bytes + (body_size % chunk_bytes != 0 ? 1 : 0);
}

// What an entry counts against the budget: its body and meta, and every key and the use
// record it keeps in LevelDB.
inline std::uint64_t charged_bytes(std::size_t key_size, std::uint64_t body_size,
                                   std::size_t meta_size, std::size_t chunk_bytes) {
  const std::uint64_t meta_record = kMetaPrefix.size() + key_size + meta_size;
  const std::uint64_t use_record = kUsePrefix.size() + key_size + kUseValueBytes;
  const std::uint64_t chunk_key_size = kBodyPrefix.size() + key_size + kChunkSuffixBytes;
  return body_size + meta_record + use_record +
         chunk_count(body_size, chunk_bytes) * chunk_key_size;
}

}  // namespace cacheproxy::cache::leveldb_layout
