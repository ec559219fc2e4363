#include "cache/lru_index.hpp"

namespace cacheproxy::cache {

void LruPolicy::insert(std::string_view key, EvictionEntry entry) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    total_bytes_ -= it->second->entry.charged_bytes;
    it->second->entry = entry;
    order_.splice(order_.begin(), order_, it->second);
  } else {
    order_.push_front(Node{std::string(key), entry});
    map_.emplace(order_.front().key, order_.begin());
  }
  total_bytes_ += entry.charged_bytes;
}

bool LruPolicy::touch(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  return true;
}

bool LruPolicy::erase(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return false;
  const List::iterator node = it->second;
  total_bytes_ -= node->entry.charged_bytes;
  map_.erase(it);  // before the node, whose string the map key views
  order_.erase(node);
  return true;
}

std::optional<EvictionEntry> LruPolicy::find(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second->entry;
}

std::optional<EvictionVictim> LruPolicy::pop_victim() {
  if (order_.empty()) return std::nullopt;
  Node& last = order_.back();
  map_.erase(last.key);
  EvictionVictim victim{std::move(last.key), last.entry};
  total_bytes_ -= victim.entry.charged_bytes;
  order_.pop_back();
  return victim;
}

}  // namespace cacheproxy::cache
