// The LevelDB backend of Store, with a byte budget enforced by an EvictionPolicy.
#pragma once

#include "cache/eviction_policy.hpp"
#include "cache/store.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace cacheproxy::cache {

struct LevelDbStoreOptions {
  std::string directory;
  std::uint64_t budget_bytes = 1ull << 30;
  std::size_t chunk_bytes = 256 * 1024;  // body chunk size in LevelDB values
  std::size_t block_cache_bytes = 8 << 20;
  // LevelDB's memtable (held twice while one is flushed). Larger ones mean fewer level-0
  // files and compactions: with bodies in the segment files, 16 MiB saved 5-12% of the CPU
  // per miss once the disk cache was full (evicting), and raised the peak resident size by
  // 15-17 MiB, past Traffic Server's in some runs; 8 MiB saved nothing measurable (session
  // 12, docs/BENCHMARKS.md). LevelDB's default stays.
  std::size_t write_buffer_bytes = 4 << 20;
  // LevelDB's table file size (its default is 2 MiB). Once the disk cache is full every miss
  // also deletes an evicted entry's records, and compacting that churn was 5-6 µs of CPU per
  // 16 KiB miss; with 16 MiB tables the compaction thread used 4.9 instead of 6.0 µs per miss
  // (four pairs of runs) and a miss 0.93x / 0.97x the CPU at 16 / 128 connections
  // (session 17, docs/BENCHMARKS.md). The memory a table costs is its index, not its size.
  std::size_t table_file_bytes = 16 << 20;
  // Size of the body segment files (body_segments.hpp) in <directory>/bodies; 0 means a
  // 32nd of the budget, within [1 MiB, 64 MiB].
  std::uint64_t segment_bytes = 0;
  // The eviction order, by make_eviction_policy() name (eviction_policy.hpp).
  std::string eviction_policy = std::string(kDefaultEvictionPolicy);
};

// Opens (creating if missing) the store in options.directory: LevelDB holds the entries'
// metadata and pointers to their bodies, whose bytes are in segment files under
// <directory>/bodies. Disk use stays within 1.25 x the budget plus two segments. Returns nullptr and sets *error
// on failure. On open, it rebuilds its index and usage from disk and removes the chunks of
// inserts that never committed (a crash or kill -9 during an insert).
//
// The chunk size is fixed when the store is created: reopening with another
// options.chunk_bytes keeps the stored one. An Insert keeps the database open after the Store
// is destroyed, until the Insert is destroyed too.
std::unique_ptr<Store> open_leveldb_store(const LevelDbStoreOptions& options, std::string* error);

// Test hook: makes insert, which must come from a LevelDB store, forget its chunks without
// deleting them, leaving what a crash during the insert would. Returns false if insert is
// not a LevelDB insert.
bool abandon_insert_for_testing(Insert& insert);

}  // namespace cacheproxy::cache
