// An approximate count of recent requests per key in fixed memory, as TinyLFU's (Einziger,
// Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", 2017): a count-min
// sketch of four rows of 4-bit counters behind a one-bit "doorkeeper" filter, halved after
// every sample of 10 x width additions so old popularity fades.
//
// A key's first request only sets its doorkeeper bits, so the 81% of a proxy trace's
// objects that are requested once barely touch the counters. Estimates never undercount
// within a sample period (count-min), and saturate at 15 + 1.
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cacheproxy::cache {

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

  std::size_t counter_index(std::uint64_t key_hash, int row) const;
  std::uint32_t counter(std::size_t index) const;
  bool doorkeeper_has(std::uint64_t key_hash) const;
  void doorkeeper_set(std::uint64_t key_hash);
  void age();

  std::size_t width_;
  std::uint64_t sample_;     // additions between two halvings
  std::uint64_t additions_ = 0;
  std::vector<std::uint64_t> counters_;    // kRows x width_ counters, 16 per word
  std::vector<std::uint64_t> doorkeeper_;  // width_ x 16 bits, two probed per key
};

}  // namespace cacheproxy::cache
