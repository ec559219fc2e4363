// GreedyDual-Size-Frequency (Cherkasova, "Improving WWW Proxies Performance with
// Greedy-Dual-Size-Frequency Caching Policy", HP Labs 1998), the idea behind Squid's
// `heap GDSF`: every entry has the priority L + frequency / size, the lowest goes first, and
// the inflation value L rises to each victim's priority, so entries not used for a while
// sink below newer ones (aging) while small, often used objects stay. Size is the entry's
// charged bytes, so the budget and the priority count the same thing.
//
// Two refinements, both measured on the BU and NASA traces (scripts/policy_prototype.py,
// docs/BENCHMARKS.md):
// - With a FrequencySketch, a new entry starts with the frequency the sketch remembers for
//   its key instead of 1: an object evicted and fetched again comes back with its past
//   popularity, while one-time objects start at 1 and are the first to go.
// - Exponents, as in Cherkasova and Ciardo's parameterised GDSF ("Role of Aging, Frequency,
//   and Size in Web Cache Replacement Policies", HPCN 2001): priority = L + f^a / size^b.
//   a > 1 trusts frequency more than one GDSF step does (keeps popular large objects: bytes),
//   b > 1 prefers small objects more (requests), b < 1 less (bytes).
//
// Not thread-safe: the owning store guards it with its own mutex.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cache/eviction_policy.hpp"
#include "cache/frequency_sketch.hpp"
#include "cache/keyed_heap.hpp"

namespace cacheproxy::cache {

struct GdsfParams {
  std::string name = "gdsf";
  double frequency_exponent = 1;  // a
  double size_exponent = 1;       // b
  std::size_t sketch_width = 0;   // 0: no sketch (every insert starts at frequency 1)
};

class GdsfPolicy final : public EvictionPolicy {
 public:
  explicit GdsfPolicy(GdsfParams params);
  GdsfPolicy(const GdsfPolicy&) = delete;
  GdsfPolicy& operator=(const GdsfPolicy&) = delete;

  std::string_view name() const override { return params_.name; }
  void insert(std::string_view key, EvictionEntry entry) override;
  bool touch(std::string_view key) override;
  bool touch(std::string_view key, std::uint32_t uses) override;
  bool erase(std::string_view key) override;
  std::optional<EvictionEntry> find(std::string_view key) const override;
  std::optional<EvictionVictim> pop_victim() override;
  std::uint64_t total_bytes() const override { return total_bytes_; }
  std::uint64_t entries() const override { return index_.size(); }

  void record_miss(std::string_view key) override;
  EvictionRank rank(std::string_view key) const override;
  void restore(std::string_view key, EvictionEntry entry, const EvictionRank& rank) override;
  std::string save_state() const override;
  void load_state(std::string_view state) override;
  std::uint64_t fixed_memory_bytes() const override {
    return sketch_ ? sketch_->memory_bytes() : 0;
  }

  // The inflation value L: the priority of the last victim.
  double inflation() const { return inflation_; }

 private:
  struct Node {
    EvictionEntry entry;
    std::uint32_t frequency = 0;
  };
  // Ordered by priority, then by the order of the last use (older first among equals).
  using Index = KeyedHeap<Node>;

  double priority_of(std::uint32_t frequency, const EvictionEntry& entry) const;
  // Places an entry in the queue at the given priority, as the latest use.
  void enqueue(Index::Id id, double priority);
  void count_request(std::string_view key);

  const GdsfParams params_;
  std::optional<FrequencySketch> sketch_;
  Index index_;
  double inflation_ = 0;
  bool state_loaded_ = false;  // load_state() found a saved L
  std::uint64_t next_order_ = 0;
  std::uint64_t total_bytes_ = 0;
};

}  // namespace cacheproxy::cache
