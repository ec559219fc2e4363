#include "cache/memory_tier.hpp"

#include "cache/cached_object.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {
namespace {

// Bookkeeping per object beyond its bytes: a list node, a hash map slot and the shared_ptr
// control block, rounded up. Keeps many tiny objects from looking free.
constexpr std::uint64_t kSlotOverhead = 128;
// Per header field: Fields' element (list and set hooks, offsets) beyond the bytes.
constexpr std::uint64_t kFieldOverhead = 64;

std::uint64_t fields_charge(const Fields& fields) {
  std::uint64_t n = 0;
  for (const auto& f : fields) n += f.name_string().size() + f.value().size() + kFieldOverhead;
  return n;
}

}  // namespace

MemoryTier::MemoryTier(std::uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

std::uint64_t MemoryTier::charge(std::string_view key, const CachedObject& object) {
  return key.size() + object.body.size() + object.wire_fields.size() +
         fields_charge(object.meta.headers) +
         fields_charge(object.meta.vary_request_headers) + kSlotOverhead;
}

CachedObjectPtr MemoryTier::get(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->object;
}

void MemoryTier::put(const std::string& key, CachedObjectPtr object) {
  const std::uint64_t object_charge = object ? charge(key, *object) : 0;
  std::lock_guard lock(mutex_);
  // Whatever happens below, an older object for key must not outlive its replacement.
  if (auto it = map_.find(key); it != map_.end()) erase_locked(it);
  if (!object || !admissible(*object, object_charge)) return;
  insert_locked(key, std::move(object), object_charge);
}

void MemoryTier::update_meta(std::string_view key, const EntryMeta& meta) {
  std::lock_guard lock(mutex_);
  auto it = map_.find(key);
  if (it == map_.end()) return;
  const CachedObjectPtr old = it->second->object;
  erase_locked(it);
  // A 304 never changes the body; metadata describing another size belongs to another body.
  if (meta.body_size != old->body.size()) return;
  // Readers may still hold the old object, so it is copied, never changed in place.
  auto updated = make_cached_object(meta, old->body);
  const std::uint64_t updated_charge = charge(key, *updated);
  if (!admissible(*updated, updated_charge)) return;
  insert_locked(std::string(key), std::move(updated), updated_charge);
}

void MemoryTier::erase(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (auto it = map_.find(key); it != map_.end()) erase_locked(it);
}

std::uint64_t MemoryTier::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::uint64_t MemoryTier::entries() const {
  std::lock_guard lock(mutex_);
  return map_.size();
}

bool MemoryTier::admissible(const CachedObject& object, std::uint64_t charge) const {
  return object.body.size() <= max_object_bytes() && charge <= capacity_bytes_;
}

void MemoryTier::erase_locked(Map::iterator it) {
  const List::iterator slot = it->second;
  bytes_ -= slot->charge;
  map_.erase(it);  // before the node, whose string the map key views
  lru_.erase(slot);
}

void MemoryTier::set_capacity(std::uint64_t capacity_bytes) {
  std::lock_guard lock(mutex_);
  capacity_bytes_ = capacity_bytes;
  while (!lru_.empty() && bytes_ > capacity_bytes) erase_locked(map_.find(lru_.back().key));
}

void MemoryTier::insert_locked(std::string key, CachedObjectPtr object, std::uint64_t charge) {
  while (!lru_.empty() && bytes_ + charge > capacity_bytes_) {
    erase_locked(map_.find(lru_.back().key));
  }
  lru_.push_front(Slot{std::move(key), std::move(object), charge});
  map_.emplace(lru_.front().key, lru_.begin());
  bytes_ += charge;
}

}  // namespace cacheproxy::cache
