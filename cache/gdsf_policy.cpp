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

void GdsfPolicy::enqueue(Index::Id id, double priority) {
  index_.rerank(id, HeapRank{priority, next_order_++});
}

void GdsfPolicy::count_request(std::string_view key) {
  if (sketch_) sketch_->add(FrequencySketch::hash(key));
}

void GdsfPolicy::insert(std::string_view key, EvictionEntry entry) {
  Index::Id id = index_.find(key);
  if (id != Index::kNone) {
    // A replaced entry (a changed object fetched again) is one more use of the key.
    Node& node = index_.value(id);
    total_bytes_ -= node.entry.charged_bytes;
    node.entry = entry;
    if (node.frequency < std::numeric_limits<std::uint32_t>::max()) ++node.frequency;
    enqueue(id, priority_of(node.frequency, entry));
  } else {
    std::uint32_t frequency = 1;
    if (sketch_)
      frequency = std::max<std::uint32_t>(1, sketch_->estimate(FrequencySketch::hash(key)));
    index_.insert(key, Node{entry, frequency},
                  HeapRank{priority_of(frequency, entry), next_order_++});
  }
  total_bytes_ += entry.charged_bytes;
}

bool GdsfPolicy::touch(std::string_view key) {
  const Index::Id id = index_.find(key);
  if (id == Index::kNone) return false;
  count_request(key);
  Node& node = index_.value(id);
  if (node.frequency < std::numeric_limits<std::uint32_t>::max()) ++node.frequency;
  enqueue(id, priority_of(node.frequency, node.entry));
  return true;
}

bool GdsfPolicy::touch(std::string_view key, std::uint32_t uses) {
  const Index::Id id = index_.find(key);
  if (id == Index::kNone) return false;
  if (uses == 0) return true;
  if (sketch_) {
    const std::uint64_t hash = FrequencySketch::hash(key);
    for (std::uint32_t i = 0; i < uses; ++i) sketch_->add(hash);
  }
  Node& node = index_.value(id);
  node.frequency = static_cast<std::uint32_t>(std::min<std::uint64_t>(
      std::uint64_t{node.frequency} + uses, std::numeric_limits<std::uint32_t>::max()));
  enqueue(id, priority_of(node.frequency, node.entry));
  return true;
}

bool GdsfPolicy::erase(std::string_view key) {
  const Index::Id id = index_.find(key);
  if (id == Index::kNone) return false;
  total_bytes_ -= index_.value(id).entry.charged_bytes;
  index_.erase(id);
  return true;
}

std::optional<EvictionEntry> GdsfPolicy::find(std::string_view key) const {
  const Index::Id id = index_.find(key);
  if (id == Index::kNone) return std::nullopt;
  return index_.value(id).entry;
}

std::optional<EvictionVictim> GdsfPolicy::pop_victim() {
  const Index::Id id = index_.top();
  if (id == Index::kNone) return std::nullopt;
  // GDSF's aging: everything inserted or used from now on ranks above what was evicted.
  inflation_ = std::max(inflation_, index_.rank(id).priority);
  EvictionVictim victim{std::string(index_.key(id)), index_.value(id).entry};
  total_bytes_ -= victim.entry.charged_bytes;
  index_.erase(id);
  return victim;
}

void GdsfPolicy::record_miss(std::string_view key) { count_request(key); }

EvictionRank GdsfPolicy::rank(std::string_view key) const {
  const Index::Id id = index_.find(key);
  if (id == Index::kNone) return {};
  return {index_.value(id).frequency, index_.rank(id).priority};
}

void GdsfPolicy::restore(std::string_view key, EvictionEntry entry, const EvictionRank& rank) {
  if (rank.frequency == 0) {
    insert(key, entry);  // no saved rank: ranked as a new entry
    return;
  }
  erase(key);
  index_.insert(key, Node{entry, rank.frequency}, HeapRank{rank.priority, next_order_++});
  total_bytes_ += entry.charged_bytes;
  // Without a saved state (a crash), L is unknown; the lowest saved priority is a lower bound
  // that keeps new entries from ranking below every restored one.
  if (!state_loaded_) inflation_ = index_.rank(index_.top()).priority;
}

std::string GdsfPolicy::save_state() const {
  std::string out(kStateTag);
  put64(out, std::bit_cast<std::uint64_t>(inflation_));
  if (sketch_) sketch_->append_serialized(out);
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
