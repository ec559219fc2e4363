// A small table remembering the results of a pure function of a short string, for values a
// hot path sees again and again (URLs, Cache-Control values): a repeat costs a hash and a
// compare instead of a parse. Direct-mapped: a new key simply replaces whatever shared its
// slot. Not thread-safe: meant to be a thread_local.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace cacheproxy::cache {

template <class Value, std::size_t kSlots>
class DirectMappedMemo {
 public:
  // The remembered value for key, or compute()'s, remembered from now on. The reference is
  // good until the next get: a caller copies only what it keeps.
  template <class Compute>
  const Value& get(std::string_view key, Compute compute) {
    Slot& slot = slots_[std::hash<std::string_view>{}(key) % kSlots];
    if (slot.used && slot.key == key) return slot.value;
    slot.value = compute();
    slot.key.assign(key);
    slot.used = true;
    return slot.value;
  }

 private:
  struct Slot {
    std::string key;
    Value value{};
    bool used = false;
  };
  std::array<Slot, kSlots> slots_;
};

}  // namespace cacheproxy::cache
