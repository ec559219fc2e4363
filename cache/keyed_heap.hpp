// A set of string keys, each with a value and a rank, that finds a key and gives up the
// lowest rank first: the index of a priority-ordered eviction policy (gdsf_policy.hpp).
//
// Built for memory, since a store's index holds one of these per stored object: about 80
// bytes per key plus the key's own allocation, where std::unordered_map<std::string, ...>
// with a std::map as the queue took about 250 (three allocations per key, each with its
// pointers and malloc's header). Entries live in a deque of slots and are named by
// their slot number; the hash table is open addressing over slot numbers with a part of
// each key's hash beside it (linear probing, deletion by backward shift, so no tombstones);
// the queue is a binary min-heap of slot numbers, each slot knowing its place in it.
//
// Not thread-safe. An Id is good until the next insert or erase (an erase may renumber the
// slots to give memory back).
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace cacheproxy::cache {

// The order of a KeyedHeap: lower priority first, and among equals the lower order (the
// older use) first.
struct HeapRank {
  double priority = 0;
  std::uint64_t order = 0;
  bool operator<(const HeapRank& other) const {
    return priority < other.priority || (priority == other.priority && order < other.order);
  }
};

template <class Value>
class KeyedHeap {
 public:
  using Id = std::uint32_t;
  static constexpr Id kNone = std::numeric_limits<Id>::max();

  KeyedHeap() = default;
  KeyedHeap(const KeyedHeap&) = delete;
  KeyedHeap& operator=(const KeyedHeap&) = delete;

  std::size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

  Id find(std::string_view key) const {
    if (table_.empty()) return kNone;
    const std::uint32_t tag = tag_of(hash_of(key));
    for (std::size_t i = tag & mask(); table_[i].slot != kNone; i = (i + 1) & mask()) {
      if (table_[i].tag == tag && key_of(table_[i].slot) == key) return table_[i].slot;
    }
    return kNone;
  }

  // Adds key, which must be absent, with its value and rank.
  Id insert(std::string_view key, Value value, HeapRank rank) {
    if ((heap_.size() + 1) * 4 > table_.size() * 3) grow_table();
    Id id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      id = static_cast<Id>(slots_.size());
      slots_.emplace_back();
    }
    Slot& slot = slots_[id];
    slot.key = std::make_unique_for_overwrite<char[]>(key.size());
    std::memcpy(slot.key.get(), key.data(), key.size());
    slot.key_size = static_cast<std::uint32_t>(key.size());
    slot.value = std::move(value);
    slot.rank = rank;
    const std::uint32_t tag = tag_of(hash_of(key));
    std::size_t i = tag & mask();
    while (table_[i].slot != kNone) i = (i + 1) & mask();
    table_[i] = Bucket{id, tag};
    slot.heap_at = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(id);
    sift_up(slot.heap_at);
    return id;
  }

  void erase(Id id) {
    remove_from_table(id);
    remove_from_heap(slots_[id].heap_at);
    Slot& slot = slots_[id];
    slot.key.reset();
    slot.key_size = 0;
    slot.value = Value{};
    free_.push_back(id);
    // Slots are reused, not returned: give the memory back when most of it is free.
    if (free_.size() > 1024 && free_.size() * 2 > slots_.size()) compact();
  }

  // Moves id to a new place in the queue.
  void rerank(Id id, HeapRank rank) {
    Slot& slot = slots_[id];
    const bool lower = rank < slot.rank;
    slot.rank = rank;
    if (lower) {
      sift_up(slot.heap_at);
    } else {
      sift_down(slot.heap_at);
    }
  }

  // The lowest-ranked entry, or kNone when empty.
  Id top() const { return heap_.empty() ? kNone : heap_.front(); }

  std::string_view key(Id id) const { return key_of(id); }
  Value& value(Id id) { return slots_[id].value; }
  const Value& value(Id id) const { return slots_[id].value; }
  const HeapRank& rank(Id id) const { return slots_[id].rank; }

 private:
  struct Slot {
    std::unique_ptr<char[]> key;
    std::uint32_t key_size = 0;
    std::uint32_t heap_at = 0;  // where this slot's id is in heap_
    HeapRank rank;
    Value value{};
  };
  struct Bucket {
    Id slot = kNone;
    // The hash's low half: gives the home bucket without reading the key (tables stay under
    // 2^32 buckets), and most mismatches are told apart without reading it either.
    std::uint32_t tag = 0;
  };

  static std::uint64_t hash_of(std::string_view key) { return std::hash<std::string_view>{}(key); }
  static std::uint32_t tag_of(std::uint64_t hash) { return static_cast<std::uint32_t>(hash); }
  std::size_t mask() const { return table_.size() - 1; }
  std::string_view key_of(Id id) const {
    return std::string_view(slots_[id].key.get(), slots_[id].key_size);
  }
  std::size_t home_of(const Bucket& b) const { return b.tag & mask(); }

  void grow_table() {
    std::vector<Bucket> old = std::move(table_);
    table_.assign(old.empty() ? 16 : old.size() * 2, Bucket{});
    for (const Bucket& b : old) {
      if (b.slot == kNone) continue;
      std::size_t i = home_of(b);
      while (table_[i].slot != kNone) i = (i + 1) & mask();
      table_[i] = b;
    }
  }

  void remove_from_table(Id id) {
    std::size_t i = tag_of(hash_of(key_of(id))) & mask();
    while (table_[i].slot != id) i = (i + 1) & mask();
    // Backward shift: pull later members of the probe run into the hole, so every key stays
    // reachable from its home bucket without tombstones.
    for (std::size_t j = (i + 1) & mask(); table_[j].slot != kNone; j = (j + 1) & mask()) {
      const std::size_t home = home_of(table_[j]);
      // table_[j] may move to i only if i lies on its probe path: from home to j, cyclically.
      const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        table_[i] = table_[j];
        i = j;
      }
    }
    table_[i] = Bucket{};
  }

  void place(std::size_t at, Id id) {
    heap_[at] = id;
    slots_[id].heap_at = static_cast<std::uint32_t>(at);
  }

  void sift_up(std::size_t at) {
    const Id id = heap_[at];
    while (at > 0) {
      const std::size_t parent = (at - 1) / 2;
      if (!(slots_[id].rank < slots_[heap_[parent]].rank)) break;
      place(at, heap_[parent]);
      at = parent;
    }
    place(at, id);
  }

  void sift_down(std::size_t at) {
    const Id id = heap_[at];
    const std::size_t n = heap_.size();
    while (true) {
      std::size_t child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && slots_[heap_[child + 1]].rank < slots_[heap_[child]].rank) ++child;
      if (!(slots_[heap_[child]].rank < slots_[id].rank)) break;
      place(at, heap_[child]);
      at = child;
    }
    place(at, id);
  }

  void remove_from_heap(std::size_t at) {
    const Id last = heap_.back();
    heap_.pop_back();
    if (at == heap_.size()) return;
    place(at, last);
    sift_down(at);
    sift_up(slots_[last].heap_at);
  }

  // Moves the live slots to the front and shrinks the vectors; ids change, so the table and
  // the heap are rebuilt to match.
  void compact() {
    std::deque<Slot> live;
    for (Id id : heap_) live.push_back(std::move(slots_[id]));
    slots_ = std::move(live);
    free_.clear();
    free_.shrink_to_fit();
    for (std::size_t at = 0; at < heap_.size(); ++at) place(at, static_cast<Id>(at));
    std::size_t buckets = 16;
    while (heap_.size() * 4 > buckets * 3) buckets *= 2;
    table_.assign(buckets, Bucket{});
    for (Id id = 0; id < slots_.size(); ++id) {
      const std::uint32_t tag = tag_of(hash_of(key_of(id)));
      std::size_t i = tag & mask();
      while (table_[i].slot != kNone) i = (i + 1) & mask();
      table_[i] = Bucket{id, tag};
    }
  }

  // A deque: it grows by blocks, never copying every slot (and holding old and new copies at
  // once) as a vector does.
  std::deque<Slot> slots_;
  std::vector<Id> free_;  // slots whose key was erased, for reuse
  std::vector<Bucket> table_;  // a power of two in size, at most 3/4 full
  std::vector<Id> heap_;  // a min-heap by rank
};

}  // namespace cacheproxy::cache
