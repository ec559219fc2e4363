#include "cache/lru_index.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace cacheproxy::cache {
namespace {

std::vector<std::string> drain(EvictionPolicy& policy) {
  std::vector<std::string> keys;
  while (std::optional<EvictionVictim> v = policy.pop_victim()) keys.push_back(v->key);
  return keys;
}

TEST_CASE("policies are made by name", "[lru_index]") {
  std::unique_ptr<EvictionPolicy> lru = make_eviction_policy("lru");
  REQUIRE(lru);
  REQUIRE(lru->name() == "lru");
  REQUIRE_FALSE(make_eviction_policy("LRU"));
  REQUIRE(make_eviction_policy("gdsf")->name() == "gdsf");
  REQUIRE(make_eviction_policy("heap GDSF")->name() == "gdsf");
  REQUIRE(make_eviction_policy("gdsf-sketch", 1 << 20)->name() == "gdsf-sketch");
  REQUIRE(make_eviction_policy(kDefaultEvictionPolicy));
  REQUIRE_FALSE(make_eviction_policy("s3-fifo"));
  REQUIRE_FALSE(make_eviction_policy(""));
}

TEST_CASE("victims come least recently used first", "[lru_index]") {
  LruPolicy lru;
  REQUIRE_FALSE(lru.pop_victim());
  lru.insert("a", {10, 1, 5});
  lru.insert("b", {20, 2, 5});
  lru.insert("c", {30, 3, 5});
  REQUIRE(lru.entries() == 3);
  REQUIRE(lru.total_bytes() == 60);

  REQUIRE(lru.touch("a"));
  REQUIRE_FALSE(lru.touch("missing"));
  // find() does not count as a use.
  REQUIRE(lru.find("b")->body_id == 2);

  std::optional<EvictionVictim> v = lru.pop_victim();
  REQUIRE(v);
  REQUIRE(v->key == "b");
  REQUIRE(v->entry.charged_bytes == 20);
  REQUIRE(v->entry.body_id == 2);
  REQUIRE(lru.total_bytes() == 40);
  REQUIRE(drain(lru) == std::vector<std::string>{"c", "a"});
  REQUIRE(lru.entries() == 0);
  REQUIRE(lru.total_bytes() == 0);
}

TEST_CASE("insert of a present key replaces it and makes it most recent", "[lru_index]") {
  LruPolicy lru;
  lru.insert("a", {10, 1, 1});
  lru.insert("b", {10, 2, 1});
  lru.insert("a", {25, 7, 9});
  REQUIRE(lru.entries() == 2);
  REQUIRE(lru.total_bytes() == 35);
  const std::optional<EvictionEntry> a = lru.find("a");
  REQUIRE(a);
  REQUIRE(a->charged_bytes == 25);
  REQUIRE(a->body_id == 7);
  REQUIRE(a->body_size == 9);
  REQUIRE(drain(lru) == std::vector<std::string>{"b", "a"});
}

TEST_CASE("erase removes a key and its bytes", "[lru_index]") {
  LruPolicy lru;
  lru.insert("a", {10, 1, 1});
  lru.insert("b", {20, 2, 1});
  REQUIRE(lru.erase("a"));
  REQUIRE_FALSE(lru.erase("a"));
  REQUIRE_FALSE(lru.find("a"));
  REQUIRE(lru.total_bytes() == 20);
  REQUIRE(drain(lru) == std::vector<std::string>{"b"});
}

TEST_CASE("keys are owned: callers' strings may go away", "[lru_index]") {
  LruPolicy lru;
  for (int i = 0; i < 100; ++i) {
    std::string key = "key-" + std::to_string(i) + std::string(40, 'x');  // not SSO
    lru.insert(key, {1, static_cast<std::uint64_t>(i), 0});
  }
  for (int i = 0; i < 100; i += 2)
    REQUIRE(lru.touch("key-" + std::to_string(i) + std::string(40, 'x')));
  std::vector<std::string> order = drain(lru);
  REQUIRE(order.size() == 100);
  REQUIRE(order.front() == "key-1" + std::string(40, 'x'));
  REQUIRE(order.back() == "key-98" + std::string(40, 'x'));
}

}  // namespace
}  // namespace cacheproxy::cache
