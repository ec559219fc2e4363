// The hot tier: whole objects in memory, bounded in bytes, least recently used evicted first,
// so hot hits never touch LevelDB. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/entry.hpp"

namespace cacheproxy::cache {

class MemoryTier {
 public:
  explicit MemoryTier(std::uint64_t capacity_bytes);

  // Returns the object for key and marks it most recently used, or nullptr.
  CachedObjectPtr get(std::string_view key);
  // Inserts or replaces; evicts least recently used objects to stay within capacity. An object
  // whose body is over max_object_bytes() is not kept (it would flush the hot set), nor one
  // whose charge() exceeds the whole capacity; either way an older object for key is dropped.
  void put(const std::string& key, CachedObjectPtr object);
  // Replaces the metadata of a held object (after a 304), keeping its body.
  void update_meta(std::string_view key, const EntryMeta& meta);
  void erase(std::string_view key);

  std::uint64_t bytes() const;
  std::uint64_t entries() const;
  std::uint64_t capacity_bytes() const { return capacity_bytes_.load(std::memory_order_relaxed); }
  // The largest body worth gathering for put(), a quarter of the capacity: bigger objects
  // would be refused.
  std::uint64_t max_object_bytes() const { return capacity_bytes() / 4; }
  // Changes the capacity (a config reload); a smaller one evicts at once.
  void set_capacity(std::uint64_t capacity_bytes);

  // What an object held under key counts against the capacity: body, header fields and key,
  // plus a fixed allowance for the bookkeeping (list node, map slot, shared_ptr control block).
  static std::uint64_t charge(std::string_view key, const CachedObject& object);

 private:
  struct Slot {
    std::string key;
    CachedObjectPtr object;
    std::uint64_t charge = 0;
  };
  using List = std::list<Slot>;
  // Keys view the strings owned by the list nodes, which never move: a string_view lookup
  // needs no temporary std::string.
  using Map = std::unordered_map<std::string_view, List::iterator>;

  // Whether put() keeps an object of this charge.
  bool admissible(const CachedObject& object, std::uint64_t charge) const;
  void erase_locked(Map::iterator it);
  // Inserts at the front and evicts from the back until within capacity.
  void insert_locked(std::string key, CachedObjectPtr object, std::uint64_t charge);

  std::atomic<std::uint64_t> capacity_bytes_;  // written under mutex_
  mutable std::mutex mutex_;
  List lru_;                 // guarded by mutex_; most recently used at the front
  Map map_;                  // guarded by mutex_
  std::uint64_t bytes_ = 0;  // guarded by mutex_; sum of the slots' charges
};

}  // namespace cacheproxy::cache
