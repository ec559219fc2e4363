// The eviction interface of a store: which entries exist, what each costs against the byte
// budget, and which one to evict next. Policies are chosen by name (make_eviction_policy), so
// the store never depends on one order: lru_index.* (LRU), gdsf_policy.* (GDSF, with or
// without a frequency sketch of past requests).
//
// Not thread-safe: the owning store guards a policy with its own mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cacheproxy::cache {

// What the store needs to know of an entry to account for it and to remove it without
// reading it first.
struct EvictionEntry {
  std::uint64_t charged_bytes = 0;  // what the entry counts against the budget
  std::uint64_t body_id = 0;        // the store's id of the entry's current body
  std::uint64_t body_size = 0;      // the size of that body, which fixes its chunk count
};

struct EvictionVictim {
  std::string key;
  EvictionEntry entry;
};

// The per-entry state a policy keeps beyond the order of last use. The store saves it with
// the entry's use record and hands it back to restore() on the next open. Zero means unknown
// (a record written before the policy had a rank for the entry, or by an older version).
struct EvictionRank {
  std::uint32_t frequency = 0;
  double priority = 0;
};

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  virtual std::string_view name() const = 0;

  // Adds key, or replaces its entry if present. Either way the key counts as just used.
  virtual void insert(std::string_view key, EvictionEntry entry) = 0;
  // Marks key as just used. Returns false (and does nothing) if key is absent.
  virtual bool touch(std::string_view key) = 0;
  // The same as `uses` calls of touch(key), in one step for policies that count uses.
  // Returns whether key is present.
  virtual bool touch(std::string_view key, std::uint32_t uses) {
    if (uses == 0) return find(key).has_value();
    bool found = false;
    for (std::uint32_t i = 0; i < uses; ++i) found = touch(key);
    return found;
  }
  // Removes key. Returns false if it was absent.
  virtual bool erase(std::string_view key) = 0;
  // Returns key's entry without counting a use, or nullopt if absent.
  virtual std::optional<EvictionEntry> find(std::string_view key) const = 0;
  // Removes and returns the entry the policy would evict next, or nullopt if empty. The
  // entry inserted last may be its own victim: a policy may judge a new object worth less
  // than everything it already holds (that is how GDSF keeps one-time objects out).
  virtual std::optional<EvictionVictim> pop_victim() = 0;

  // Sum of charged_bytes over all entries.
  virtual std::uint64_t total_bytes() const = 0;
  virtual std::uint64_t entries() const = 0;

  // A request for key found no entry. Policies that remember the history of absent keys
  // (a frequency sketch) count it, so an object fetched again starts with its past uses.
  virtual void record_miss(std::string_view /*key*/) {}
  // key's state to persist, or a zero rank if absent or if the policy keeps none.
  virtual EvictionRank rank(std::string_view /*key*/) const { return {}; }
  // Re-adds an entry when the store opens. The store calls it least recently used first,
  // after load_state(), with the rank saved for the entry (zero if none was saved).
  virtual void restore(std::string_view key, EvictionEntry entry, const EvictionRank& /*rank*/) {
    insert(key, entry);
  }
  // The policy's state beyond its entries (GDSF's inflation value, the sketch), saved by the
  // store when it closes, and given back on the next open before any restore(). A policy
  // ignores a state it cannot read (another policy's, or damaged).
  virtual std::string save_state() const { return {}; }
  virtual void load_state(std::string_view /*state*/) {}
  // Memory the policy holds beyond its per-entry nodes (a sketch), in bytes.
  virtual std::uint64_t fixed_memory_bytes() const { return 0; }
};

// The policy called name, or nullptr if there is no such policy:
//   "lru"                        least recently used first (lru_index.hpp)
//   "gdsf", "heap GDSF"          GreedyDual-Size-Frequency as Squid's heap GDSF (gdsf_policy.hpp)
//   "gdsf-sketch"                GDSF whose frequencies outlive eviction in a count-min sketch,
//                                priority L + f^2.5 / size^1.45 (the most requests)
//   "gdsf-bytes"                 the same with L + f^2 / size^0.5 (more bytes, fewer requests)
// budget_bytes sizes the sketch (it tracks about budget_bytes / 1 KiB keys); 0 picks a small one.
std::unique_ptr<EvictionPolicy> make_eviction_policy(std::string_view name,
                                                     std::uint64_t budget_bytes = 0);

// The policy the proxy uses when the configuration names none: chosen by the hit-ratio
// evidence in docs/BENCHMARKS.md.
inline constexpr std::string_view kDefaultEvictionPolicy = "gdsf-sketch";

}  // namespace cacheproxy::cache
