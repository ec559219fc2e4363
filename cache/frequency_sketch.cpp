#include "cache/frequency_sketch.hpp"

#include <algorithm>

namespace cacheproxy::cache {
namespace {

constexpr std::size_t kMinWidth = 64;
constexpr std::uint64_t kSampleFactor = 10;  // TinyLFU's sample size: 10 x the counters
// Doorkeeper bits per counter of a row. A sample period may bring several times width
// distinct keys (BU at 5%: 2.2 x width by the end of the trace). At 4 bits (format 1) the
// filter was two thirds full by then and passed a fifth of all first requests (near the end, half)
// as second ones, so one-time objects entered GDSF at frequency 2 and displaced others
// (0.3 points of request hit ratio, scripts/policy_prototype.py --doorkeeper-bits). At 16,
// about 2% (6% near the end).
constexpr std::size_t kDoorkeeperBitsPerCounter = 16;
constexpr unsigned char kFormat = 3;  // 3: a key's counters in one block

// SplitMix64's finaliser: spreads the bits of one hash into independent-looking row indexes.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void put64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get64(std::string_view in, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= std::uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  return v;
}

}  // namespace

FrequencySketch::FrequencySketch(std::size_t width) {
  width_ = kMinWidth;
  while (width_ < width && width_ < (std::size_t{1} << 40)) width_ *= 2;
  sample_ = kSampleFactor * width_;
  counters_.assign(kRows * width_ / 16, 0);
  doorkeeper_.assign(width_ * kDoorkeeperBitsPerCounter / 64, 0);
}

std::uint64_t FrequencySketch::hash(std::string_view key) {
  // FNV-1a, then mixed: stable across processes, unlike std::hash's unspecified result.
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return mix(h);
}

std::size_t FrequencySketch::counter_block(std::uint64_t key_hash) const {
  const std::size_t blocks = counters_.size() / kBlockWords;
  return static_cast<std::size_t>(mix(key_hash + 0x9e3779b97f4a7c15ull) & (blocks - 1));
}

std::size_t FrequencySketch::counter_index(std::size_t block, std::uint64_t key_hash,
                                           int row) const {
  // Row r owns words 2r and 2r + 1 of the block (32 counters); five bits of the hash, apart
  // from those choosing the block (at most 35 of them), pick one.
  const auto pick = static_cast<std::size_t>((key_hash >> (40 + 5 * row)) & 31);
  return block * kBlockWords * 16 + static_cast<std::size_t>(row) * 32 + pick;
}

std::uint32_t FrequencySketch::counter(std::size_t index) const {
  return static_cast<std::uint32_t>((counters_[index / 16] >> (4 * (index % 16))) & 0xf);
}

// The doorkeeper's size is a power of two: its bits are picked with a mask, not a division.
bool FrequencySketch::doorkeeper_has(std::uint64_t key_hash) const {
  const std::size_t mask = doorkeeper_.size() * 64 - 1;
  const std::size_t a = static_cast<std::size_t>(key_hash & mask);
  const std::size_t b = static_cast<std::size_t>(mix(key_hash) & mask);
  return (doorkeeper_[a / 64] >> (a % 64) & 1) && (doorkeeper_[b / 64] >> (b % 64) & 1);
}

void FrequencySketch::doorkeeper_set(std::uint64_t key_hash) {
  const std::size_t mask = doorkeeper_.size() * 64 - 1;
  const std::size_t a = static_cast<std::size_t>(key_hash & mask);
  const std::size_t b = static_cast<std::size_t>(mix(key_hash) & mask);
  doorkeeper_[a / 64] |= std::uint64_t{1} << (a % 64);
  doorkeeper_[b / 64] |= std::uint64_t{1} << (b % 64);
}

void FrequencySketch::add(std::uint64_t key_hash) {
  if (!doorkeeper_has(key_hash)) {
    doorkeeper_set(key_hash);
  } else {
    // Conservative update: only the smallest counters grow, which keeps the overcount of
    // keys that share cells low.
    std::size_t index[kRows];
    std::uint32_t least = kMaxCount;
    const std::size_t block = counter_block(key_hash);
    for (int r = 0; r < kRows; ++r) {
      index[r] = counter_index(block, key_hash, r);
      least = std::min(least, counter(index[r]));
    }
    if (least < kMaxCount) {
      for (int r = 0; r < kRows; ++r)
        if (counter(index[r]) == least)
          counters_[index[r] / 16] += std::uint64_t{1} << (4 * (index[r] % 16));
    }
  }
  if (++additions_ >= sample_) age();
}

std::uint32_t FrequencySketch::estimate(std::uint64_t key_hash) const {
  std::uint32_t least = kMaxCount;
  const std::size_t block = counter_block(key_hash);
  for (int r = 0; r < kRows; ++r)
    least = std::min(least, counter(counter_index(block, key_hash, r)));
  return least + (doorkeeper_has(key_hash) ? 1 : 0);
}

void FrequencySketch::age() {
  // Halves every counter at once: shift the word, drop the bit each counter took from its
  // neighbour.
  for (std::uint64_t& word : counters_) word = (word >> 1) & 0x7777777777777777ull;
  std::fill(doorkeeper_.begin(), doorkeeper_.end(), 0);
  additions_ /= 2;
}

std::string FrequencySketch::serialize() const {
  std::string out;
  append_serialized(out);
  return out;
}

void FrequencySketch::append_serialized(std::string& out) const {
  out.reserve(out.size() + 1 + 8 * (2 + counters_.size() + doorkeeper_.size()));
  out.push_back(static_cast<char>(kFormat));
  put64(out, width_);
  put64(out, additions_);
  for (std::uint64_t w : counters_) put64(out, w);
  for (std::uint64_t w : doorkeeper_) put64(out, w);
}

bool FrequencySketch::deserialize(std::string_view data) {
  const std::size_t words = counters_.size() + doorkeeper_.size();
  if (data.size() != 1 + 8 * (2 + words) || static_cast<unsigned char>(data[0]) != kFormat ||
      get64(data, 1) != width_)
    return false;
  const std::uint64_t additions = get64(data, 9);
  if (additions >= sample_) return false;
  additions_ = additions;
  std::size_t at = 17;
  for (std::uint64_t& w : counters_) {
    w = get64(data, at);
    at += 8;
  }
  for (std::uint64_t& w : doorkeeper_) {
    w = get64(data, at);
    at += 8;
  }
  return true;
}

}  // namespace cacheproxy::cache
