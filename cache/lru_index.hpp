// LRU, the simplest EvictionPolicy: least recently used first.
//
// Not thread-safe: the owning store guards it with its own mutex.
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cache/eviction_policy.hpp"

namespace cacheproxy::cache {

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

}  // namespace cacheproxy::cache
