#include "cache/gdsf_policy.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace cacheproxy::cache {
namespace {

constexpr std::string_view kStateTag = "gdsf1";

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

GdsfPolicy::GdsfPolicy(GdsfParams params) : params_(std::move(params)) {
  if (params_.sketch_width > 0) sketch_.emplace(params_.sketch_width);
}

double GdsfPolicy::priority_of(std::uint32_t frequency, const EvictionEntry& entry) const {
  // Cost 1 per object: the policy maximises requests served, not bytes (docs/BENCHMARKS.md
  // shows what that costs in byte hit ratio).
  const double size = static_cast<double>(std::max<std::uint64_t>(entry.charged_bytes, 1));
  const double f = static_cast<double>(frequency);
  if (params_.frequency_exponent == 1 && params_.size_exponent == 1) return inflation_ + f / size;
  return inflation_ +
         std::pow(f, params_.frequency_exponent) / std::pow(size, params_.size_exponent);
}

void GdsfPolicy::enqueue(Nodes::iterator it, double priority) {
  if (it->second.slot != queue_.end()) queue_.erase(it->second.slot);
  it->second.slot = queue_.emplace(QueueKey{priority, next_order_++}, &it->first).first;
}

void GdsfPolicy::count_request(std::string_view key) {
  if (sketch_) sketch_->add(FrequencySketch::hash(key));
}

void GdsfPolicy::insert(std::string_view key, EvictionEntry entry) {
  auto it = nodes_.find(key);
  if (it != nodes_.end()) {
    // A replaced entry (a changed object fetched again) is one more use of the key.
    total_bytes_ -= it->second.entry.charged_bytes;
    it->second.entry = entry;
    if (it->second.frequency < std::numeric_limits<std::uint32_t>::max()) ++it->second.frequency;
  } else {
    it = nodes_.emplace(std::string(key), Node{entry, 1, queue_.end()}).first;
    if (sketch_)
      it->second.frequency = std::max<std::uint32_t>(1, sketch_->estimate(FrequencySketch::hash(key)));
  }
  total_bytes_ += entry.charged_bytes;
  enqueue(it, priority_of(it->second.frequency, entry));
}

bool GdsfPolicy::touch(std::string_view key) {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return false;
  count_request(key);
  Node& node = it->second;
  if (node.frequency < std::numeric_limits<std::uint32_t>::max()) ++node.frequency;
  enqueue(it, priority_of(node.frequency, node.entry));
  return true;
}

bool GdsfPolicy::touch(std::string_view key, std::uint32_t uses) {
  if (uses == 0) return nodes_.contains(key);
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return false;
  if (sketch_) {
    const std::uint64_t hash = FrequencySketch::hash(key);
    for (std::uint32_t i = 0; i < uses; ++i) sketch_->add(hash);
  }
  Node& node = it->second;
  node.frequency = static_cast<std::uint32_t>(std::min<std::uint64_t>(
      std::uint64_t{node.frequency} + uses, std::numeric_limits<std::uint32_t>::max()));
  enqueue(it, priority_of(node.frequency, node.entry));
  return true;
}

bool GdsfPolicy::erase(std::string_view key) {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return false;
  total_bytes_ -= it->second.entry.charged_bytes;
  queue_.erase(it->second.slot);
  nodes_.erase(it);
  return true;
}

std::optional<EvictionEntry> GdsfPolicy::find(std::string_view key) const {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.entry;
}

std::optional<EvictionVictim> GdsfPolicy::pop_victim() {
  if (queue_.empty()) return std::nullopt;
  const auto first = queue_.begin();
  // GDSF's aging: everything inserted or used from now on ranks above what was evicted.
  inflation_ = std::max(inflation_, first->first.first);
  auto it = nodes_.find(*first->second);
  queue_.erase(first);
  auto node = nodes_.extract(it);
  total_bytes_ -= node.mapped().entry.charged_bytes;
  return EvictionVictim{std::move(node.key()), node.mapped().entry};
}

void GdsfPolicy::record_miss(std::string_view key) { count_request(key); }

EvictionRank GdsfPolicy::rank(std::string_view key) const {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return {};
  return {it->second.frequency, it->second.slot->first.first};
}

void GdsfPolicy::restore(std::string_view key, EvictionEntry entry, const EvictionRank& rank) {
  if (rank.frequency == 0) {
    insert(key, entry);  // no saved rank: ranked as a new entry
    return;
  }
  auto it = nodes_.find(key);
  if (it != nodes_.end()) erase(key);
  it = nodes_.emplace(std::string(key), Node{entry, rank.frequency, queue_.end()}).first;
  total_bytes_ += entry.charged_bytes;
  enqueue(it, rank.priority);
  // Without a saved state (a crash), L is unknown; the lowest saved priority is a lower bound
  // that keeps new entries from ranking below every restored one.
  if (!state_loaded_) inflation_ = queue_.begin()->first.first;
}

std::string GdsfPolicy::save_state() const {
  std::string out(kStateTag);
  put64(out, std::bit_cast<std::uint64_t>(inflation_));
  if (sketch_) out += sketch_->serialize();
  return out;
}

void GdsfPolicy::load_state(std::string_view state) {
  if (!state.starts_with(kStateTag) || state.size() < kStateTag.size() + 8) return;
  const double inflation = std::bit_cast<double>(get64(state, kStateTag.size()));
  if (!(inflation >= 0) || inflation == std::numeric_limits<double>::infinity()) return;
  inflation_ = inflation;
  state_loaded_ = true;
  // A sketch of another width (the budget changed) is dropped: its counters would map
  // keys to the wrong cells.
  if (sketch_) sketch_->deserialize(state.substr(kStateTag.size() + 8));
}

}  // namespace cacheproxy::cache
