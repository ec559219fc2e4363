#include "cache/keyed_heap.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>

namespace cacheproxy::cache {
namespace {

// The same operations on std::map, the obvious way: the model KeyedHeap must agree with.
struct Model {
  std::map<std::string, std::pair<HeapRank, int>> entries;
  std::string lowest() const {
    auto best = entries.begin();
    for (auto it = entries.begin(); it != entries.end(); ++it)
      if (it->second.first < best->second.first) best = it;
    return best->first;
  }
};

TEST_CASE("KeyedHeap finds keys and gives up the lowest rank first", "[keyed_heap]") {
  KeyedHeap<int> heap;
  REQUIRE(heap.empty());
  REQUIRE(heap.top() == KeyedHeap<int>::kNone);
  REQUIRE(heap.find("a") == KeyedHeap<int>::kNone);

  const auto a = heap.insert("a", 1, {5.0, 1});
  const auto b = heap.insert("b", 2, {3.0, 2});
  const auto c = heap.insert("c", 3, {3.0, 0});  // same priority, older: before b
  REQUIRE(heap.size() == 3);
  REQUIRE(heap.find("a") == a);
  REQUIRE(heap.value(heap.find("b")) == 2);
  REQUIRE(heap.key(c) == "c");
  REQUIRE(heap.top() == c);

  heap.rerank(c, {9.0, 3});
  REQUIRE(heap.top() == b);
  heap.erase(b);
  REQUIRE(heap.find("b") == KeyedHeap<int>::kNone);
  REQUIRE(heap.top() == a);
  heap.erase(a);
  REQUIRE(heap.top() == c);
  heap.erase(c);
  REQUIRE(heap.empty());
  // Keys that are prefixes of each other, and the empty key, are distinct keys.
  heap.insert("", 0, {1, 0});
  heap.insert("ab", 0, {2, 0});
  heap.insert("abc", 0, {0.5, 0});
  REQUIRE(heap.key(heap.find("")) == "");
  REQUIRE(heap.key(heap.find("ab")) == "ab");
  REQUIRE(heap.key(heap.top()) == "abc");
}

TEST_CASE("KeyedHeap agrees with a map under random operations", "[keyed_heap]") {
  std::mt19937 rng(20261205);
  KeyedHeap<int> heap;
  Model model;
  // Few distinct keys, so inserts, erases and reranks meet the same keys often; many steps,
  // so the table grows, probe runs wrap around, and erasing most keys compacts the slots.
  const int kKeys = 5000;
  for (int step = 0; step < 200'000; ++step) {
    const std::string key = "http://host/" + std::to_string(rng() % kKeys);
    const HeapRank rank{static_cast<double>(rng() % 100), static_cast<std::uint64_t>(step)};
    const auto id = heap.find(key);
    const bool present = model.entries.contains(key);
    REQUIRE((id != KeyedHeap<int>::kNone) == present);
    const int op = static_cast<int>(rng() % 10);
    // In the last quarter, erase far more than insert: the slots empty out and compact.
    const bool draining = step > 150'000;
    if (!present) {
      if (!draining || op == 0) {
        heap.insert(key, step, rank);
        model.entries[key] = {rank, step};
      }
    } else if (op < (draining ? 8 : 3)) {
      REQUIRE(heap.value(id) == model.entries[key].second);
      heap.erase(id);
      model.entries.erase(key);
    } else {
      heap.rerank(id, rank);
      model.entries[key].first = rank;
    }
    REQUIRE(heap.size() == model.entries.size());
    if (step % 97 == 0 && !model.entries.empty()) {
      REQUIRE(heap.key(heap.top()) == model.lowest());
    }
  }
  // Everything left comes out in rank order, and every key is still found on the way.
  while (!model.entries.empty()) {
    for (const auto& [key, entry] : model.entries) REQUIRE(heap.find(key) != KeyedHeap<int>::kNone);
    const std::string lowest = model.lowest();
    REQUIRE(heap.key(heap.top()) == lowest);
    heap.erase(heap.top());
    model.entries.erase(lowest);
    if (model.entries.size() > 200) {
      // Checking every key each time is quadratic: thin out the rest quickly.
      for (int i = 0; i < 50 && !model.entries.empty(); ++i) {
        const std::string next = model.lowest();
        REQUIRE(heap.key(heap.top()) == next);
        heap.erase(heap.top());
        model.entries.erase(next);
      }
    }
  }
  REQUIRE(heap.empty());
}

}  // namespace
}  // namespace cacheproxy::cache
