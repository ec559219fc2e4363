// An approximate count of recent requests per key in fixed memory, as TinyLFU's (Einziger,
// Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", 2017): a count-min
// sketch of four rows of 4-bit counters behind a one-bit "doorkeeper" filter, halved after
// every sample of 10 x width additions so old popularity fades.
//
// A key's first request only sets its doorkeeper bits, so the 81% of a proxy trace's
// objects that are requested once barely touch the counters. Estimates never undercount
// within a sample period (count-min), and saturate at 15 + 1. A key's four counters lie in one
// cache line (a blocked count-min sketch, as Caffeine's): one memory access per add or estimate.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace cacheproxy::cache {

// Allocates on 64-byte boundaries, so each block of the sketch's counters is one cache line.
template <class T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlignment{64};
  CacheLineAllocator() = default;
  template <class U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlignment)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlignment); }
  bool operator==(const CacheLineAllocator&) const { return true; }
};

class FrequencySketch {
 public:
  // width: counters per row, rounded up to a power of two, at least 64.
  explicit FrequencySketch(std::size_t width);

  // A stable 64-bit hash of a key (the same in every process and build, so a saved sketch
  // stays valid across restarts).
  static std::uint64_t hash(std::string_view key);

  void add(std::uint64_t key_hash);
  std::uint32_t estimate(std::uint64_t key_hash) const;

  std::size_t width() const { return width_; }
  std::size_t memory_bytes() const {
    return (counters_.size() + doorkeeper_.size()) * sizeof(std::uint64_t);
  }

  // A portable encoding of the whole state, and its inverse. deserialize() returns false,
  // and changes nothing, if data is not a sketch of this width.
  std::string serialize() const;
  // serialize() appended to out (a state of which the sketch is a part, built in one string).
  void append_serialized(std::string& out) const;
  bool deserialize(std::string_view data);

 private:
  static constexpr int kRows = 4;
  static constexpr std::uint32_t kMaxCount = 15;

  // A key's four counters share one block of kBlockWords words, a 64-byte cache line, so an
  // add or an estimate reads one line of the counters instead of four (the layout of
  // Caffeine's sketch). Each row keeps its own counters within the block.
  static constexpr std::size_t kBlockWords = 8;
  std::size_t counter_block(std::uint64_t key_hash) const;
  std::size_t counter_index(std::size_t block, std::uint64_t key_hash, int row) const;
  std::uint32_t counter(std::size_t index) const;
  bool doorkeeper_has(std::uint64_t key_hash) const;
  void doorkeeper_set(std::uint64_t key_hash);
  void age();

  std::size_t width_;
  std::uint64_t sample_;     // additions between two halvings
  std::uint64_t additions_ = 0;
  // kRows x width_ counters, 16 per word, in blocks of kBlockWords words.
  std::vector<std::uint64_t, CacheLineAllocator<std::uint64_t>> counters_;
  std::vector<std::uint64_t> doorkeeper_;  // width_ x 16 bits, two probed per key
};

}  // namespace cacheproxy::cache
