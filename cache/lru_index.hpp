// The eviction index of a store: which entries exist, what each costs against the byte
// budget, and which one to evict next. The order is a policy behind EvictionPolicy, chosen by
// name, so other orders (GDSF, S3-FIFO, SIEVE) can be added without touching the store.
//
// Not thread-safe: the owning store guards it with its own mutex.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

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

class EvictionPolicy {
 public:
  virtual ~EvictionPolicy() = default;

  virtual std::string_view name() const = 0;

  // Adds key, or replaces its entry if present. Either way the key counts as just used.
  virtual void insert(std::string_view key, EvictionEntry entry) = 0;
  // Marks key as just used. Returns false (and does nothing) if key is absent.
  virtual bool touch(std::string_view key) = 0;
  // Removes key. Returns false if it was absent.
  virtual bool erase(std::string_view key) = 0;
  // Returns key's entry without counting a use, or nullopt if absent.
  virtual std::optional<EvictionEntry> find(std::string_view key) const = 0;
  // Removes and returns the entry the policy would evict next, or nullopt if empty.
  virtual std::optional<EvictionVictim> pop_victim() = 0;

  // Sum of charged_bytes over all entries.
  virtual std::uint64_t total_bytes() const = 0;
  virtual std::uint64_t entries() const = 0;
};

// Least recently used first. Every operation is O(1) on average.
class LruPolicy final : public EvictionPolicy {
 public:
  LruPolicy() = default;
  LruPolicy(const LruPolicy&) = delete;
  LruPolicy& operator=(const LruPolicy&) = delete;

  std::string_view name() const override { return "lru"; }
  void insert(std::string_view key, EvictionEntry entry) override;
  bool touch(std::string_view key) override;
  bool erase(std::string_view key) override;
  std::optional<EvictionEntry> find(std::string_view key) const override;
  std::optional<EvictionVictim> pop_victim() override;
  std::uint64_t total_bytes() const override { return total_bytes_; }
  std::uint64_t entries() const override { return map_.size(); }

 private:
  struct Node {
    std::string key;
    EvictionEntry entry;
  };
  using List = std::list<Node>;

  // Most recently used at the front. List nodes never move in memory, so the map's keys
  // can view the key strings the nodes own.
  List order_;
  std::unordered_map<std::string_view, List::iterator> map_;
  std::uint64_t total_bytes_ = 0;
};

// Returns the policy called name ("lru"), or nullptr if there is no such policy.
std::unique_ptr<EvictionPolicy> make_eviction_policy(std::string_view name);

}  // namespace cacheproxy::cache
