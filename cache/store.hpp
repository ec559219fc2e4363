// The storage interface every cache backend implements. Calls block (disk I/O):
// the proxy runs them on the store's worker threads, never on network threads.
// All methods are safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cache/entry.hpp"

namespace cacheproxy::cache {

struct StoreUsage {
  std::uint64_t bytes = 0;  // what the byte budget counts: body + encoded metadata
  std::uint64_t entries = 0;
  // Disk space the bodies' files take, garbage included (backends that keep bodies in
  // files; 0 otherwise).
  std::uint64_t body_file_bytes = 0;
};

struct StoreCounters {
  std::uint64_t corrupt_erased = 0;  // undecodable entries found and erased
  std::uint64_t evictions = 0;       // entries removed to stay within the budget
  std::uint64_t evicted_bytes = 0;
  std::uint64_t segments_collected = 0;  // body files deleted once their live bytes moved
  std::uint64_t collected_bytes_copied = 0;  // live bytes those moves copied
};

// Collects the body of one new entry. Nothing is visible to lookup() until commit()
// returns true; a destroyed, aborted or failed insert leaves no trace that can be served.
class Insert {
 public:
  virtual ~Insert() = default;
  // Appends body bytes. Returns false if the insert failed (the caller should abort).
  virtual bool append(std::string_view data) = 0;
  // Atomically makes the entry (meta + all appended bytes) visible, replacing any previous
  // entry for the key. meta.body_size must equal the bytes appended; otherwise fails.
  virtual bool commit(EntryMeta meta) = 0;
  // append(last_bytes) then commit(meta), as one step: a backend may write last_bytes from
  // where they are instead of copying them first.
  virtual bool commit(EntryMeta meta, std::string_view last_bytes) {
    return append(last_bytes) && commit(std::move(meta));
  }
  // Discards everything appended. Safe to call more than once.
  virtual void abort() = 0;
};

// Keeps one stored body readable while it exists (Store::pin_body).
class BodyPin {
 public:
  virtual ~BodyPin() = default;
};

// One insert's part in Store::commit_all.
struct PendingCommit {
  Insert* insert = nullptr;
  EntryMeta meta;
  std::string_view last_bytes;
  // last_bytes' CRC-32C (crc32c.hpp) when the caller computed it as the bytes arrived, still
  // in its CPU's cache: by the time a group commit runs they have usually left it.
  std::optional<std::uint32_t> last_bytes_crc;
  bool committed = false;  // set by commit_all
};

class Store {
 public:
  virtual ~Store() = default;

  // Whether a lookup is a use for eviction. A request that looks again after waiting for
  // another's fetch (collapsed forwarding) was counted by its first lookup: once, not twice.
  enum class CountUse { yes, no };
  // Returns the metadata for key, or nullopt if there is none. A corrupt entry is erased,
  // counted in counters().corrupt_erased, and reported as nullopt.
  virtual std::optional<EntryMeta> lookup(std::string_view key,
                                          CountUse count = CountUse::yes) = 0;

  // Reads body bytes [offset, offset + max_bytes) of the body meta.body_id of key. Returns
  // fewer bytes only at the end of the body. Returns nullopt if that body is gone (replaced,
  // evicted or erased since lookup) or corrupt: the caller must then cut its response off.
  virtual std::optional<std::string> read_body(std::string_view key, const EntryMeta& meta,
                                               std::uint64_t offset, std::size_t max_bytes) = 0;
  // Keeps the body meta.body_id of key readable by read_body(key, meta, ...) until the
  // returned pin is destroyed, even if the entry is evicted, replaced or erased meanwhile
  // (its space is then reclaimed when the last pin goes). For responses read in several
  // read_body calls. Returns nullptr if that body is already gone. Destroying a pin does no
  // I/O, so it may happen on any thread.
  virtual std::unique_ptr<BodyPin> pin_body(std::string_view key, const EntryMeta& meta) = 0;

  virtual std::unique_ptr<Insert> begin_insert(std::string key) = 0;
  // A group commit: for each c, what c.insert->commit(c.meta, c.last_bytes) does, setting
  // c.committed, with as few database writes for all of them as the backend can (one, for
  // inserts of distinct keys). The inserts must come from this store.
  virtual void commit_all(std::span<PendingCommit> commits) {
    for (PendingCommit& c : commits) c.committed = c.insert->commit(std::move(c.meta), c.last_bytes);
  }

  // Replaces the metadata of an existing entry whose body_id equals meta.body_id (after a 304
  // merge). Returns false if the entry is gone or has been replaced.
  virtual bool update_meta(std::string_view key, const EntryMeta& meta) = 0;

  // Answers from memory, without disk I/O and without waiting for a lock, whether key
  // certainly has no entry; that miss then counts for eviction as in lookup(). False means
  // "ask lookup()": the key may be stored, or the store could not tell at once. Network
  // threads use it to skip a trip to the store's threads for a URL never stored.
  virtual bool quick_miss(std::string_view /*key*/) { return false; }
  // Marks key as just used without reading it (a memory-tier hit), so eviction sees it.
  virtual void touch(std::string_view key) = 0;
  // The same as `uses` calls of touch(key), as one (memory-tier hits counted in a batch).
  virtual void touch(std::string_view key, std::uint32_t uses) {
    for (std::uint32_t i = 0; i < uses; ++i) touch(key);
  }

  virtual void erase(std::string_view key) = 0;

  // Erases every entry whose key starts with prefix (all the variants of a URL, under every
  // Vary marker it has had: variants_prefix() in variants.hpp), bodies included. Returns how
  // many entries went.
  virtual std::size_t erase_prefix(std::string_view prefix) = 0;

  virtual StoreUsage usage() const = 0;
  virtual StoreCounters counters() const = 0;

  // Changes the byte budget (a config reload); a smaller one evicts at once. Backends without
  // a budget ignore it.
  virtual void set_budget(std::uint64_t /*bytes*/) {}
};

}  // namespace cacheproxy::cache
