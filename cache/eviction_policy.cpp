#include "cache/eviction_policy.hpp"

#include <algorithm>

#include "cache/gdsf_policy.hpp"
#include "cache/lru_index.hpp"

namespace cacheproxy::cache {
namespace {

// The sketch tracks about one key per this many bytes of budget: several times the number of
// objects a budget holds at web object sizes (BU's mean is 7.6 kB), since it must remember
// objects that are no longer cached. Narrower sketches lost up to 0.6 points on BU at 1%
// (scripts/policy_prototype.py).
constexpr std::uint64_t kBudgetBytesPerSketchCounter = 1024;
constexpr std::uint64_t kMinSketchWidth = 1024;
constexpr std::uint64_t kMaxSketchWidth = std::uint64_t{1} << 24;  // 32 MiB of counters

std::size_t sketch_width(std::uint64_t budget_bytes) {
  return static_cast<std::size_t>(std::clamp(budget_bytes / kBudgetBytesPerSketchCounter,
                                             kMinSketchWidth, kMaxSketchWidth));
}

}  // namespace

std::unique_ptr<EvictionPolicy> make_eviction_policy(std::string_view name,
                                                     std::uint64_t budget_bytes) {
  if (name == "lru") return std::make_unique<LruPolicy>();
  // Squid spells it "heap GDSF" in cache_replacement_policy.
  if (name == "gdsf" || name == "heap GDSF") return std::make_unique<GdsfPolicy>(GdsfParams{});
  // The exponents were chosen on the BU and NASA traces at 1 to 25% of their unique bytes
  // (docs/BENCHMARKS.md): gdsf-sketch for requests, gdsf-bytes for bytes. gdsf-sketch was
  // (2, 1.3) until the store's per-entry charge fell from about 365 to 185 bytes; (2.5, 1.45)
  // then kept 0.1 to 0.2 more requests at 5 to 10% on BU for up to 0.7 points of its bytes
  // at 1% (scripts/policy_prototype.py).
  if (name == "gdsf-sketch")
    return std::make_unique<GdsfPolicy>(
        GdsfParams{"gdsf-sketch", 2.5, 1.45, sketch_width(budget_bytes)});
  if (name == "gdsf-bytes")
    return std::make_unique<GdsfPolicy>(
        GdsfParams{"gdsf-bytes", 2.0, 0.5, sketch_width(budget_bytes)});
  return nullptr;
}

}  // namespace cacheproxy::cache
