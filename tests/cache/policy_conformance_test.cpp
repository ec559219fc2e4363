// The EvictionPolicy conformance suite: every policy make_eviction_policy() knows runs every
// case, so a new policy is tested by adding its name to kPolicies.
#include <catch2/catch.hpp>
#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "cache/eviction_policy.hpp"

namespace cacheproxy::cache {
namespace {

constexpr std::array<std::string_view, 4> kPolicies{"lru", "gdsf", "gdsf-sketch", "gdsf-bytes"};

std::unique_ptr<EvictionPolicy> make(std::string_view name) {
  std::unique_ptr<EvictionPolicy> policy = make_eviction_policy(name, 1 << 20);
  REQUIRE(policy);
  REQUIRE(policy->name() == name);
  return policy;
}

std::vector<std::string> drain(EvictionPolicy& policy) {
  std::vector<std::string> keys;
  while (std::optional<EvictionVictim> v = policy.pop_victim()) {
    REQUIRE_FALSE(policy.find(v->key));
    keys.push_back(v->key);
  }
  return keys;
}

TEST_CASE("an empty policy has nothing to evict", "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> policy = make(name);
  REQUIRE_FALSE(policy->pop_victim());
  REQUIRE(policy->entries() == 0);
  REQUIRE(policy->total_bytes() == 0);
  REQUIRE_FALSE(policy->find("a"));
  REQUIRE_FALSE(policy->touch("a"));
  REQUIRE_FALSE(policy->erase("a"));
  policy->record_miss("a");  // counts history only: still nothing cached
  REQUIRE(policy->entries() == 0);
  REQUIRE(policy->rank("a").frequency == 0);
  REQUIRE_FALSE(policy->pop_victim());
}

TEST_CASE("insert find erase and total_bytes agree", "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> policy = make(name);
  policy->insert("a", {100, 1, 90});
  policy->insert("b", {200, 2, 190});
  policy->insert("c", {300, 3, 290});
  REQUIRE(policy->entries() == 3);
  REQUIRE(policy->total_bytes() == 600);
  const std::optional<EvictionEntry> b = policy->find("b");
  REQUIRE(b);
  REQUIRE(b->charged_bytes == 200);
  REQUIRE(b->body_id == 2);
  REQUIRE(b->body_size == 190);
  REQUIRE(policy->touch("b"));

  REQUIRE(policy->erase("b"));
  REQUIRE_FALSE(policy->erase("b"));
  REQUIRE_FALSE(policy->find("b"));
  REQUIRE_FALSE(policy->touch("b"));
  REQUIRE(policy->entries() == 2);
  REQUIRE(policy->total_bytes() == 400);

  std::vector<std::string> order = drain(*policy);
  std::sort(order.begin(), order.end());
  REQUIRE(order == std::vector<std::string>{"a", "c"});
  REQUIRE(policy->total_bytes() == 0);
  REQUIRE(policy->entries() == 0);
}

TEST_CASE("inserting a present key replaces its entry", "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> policy = make(name);
  policy->insert("a", {100, 1, 90});
  policy->insert("b", {50, 2, 40});
  policy->insert("a", {70, 7, 60});
  REQUIRE(policy->entries() == 2);
  REQUIRE(policy->total_bytes() == 120);
  REQUIRE(policy->find("a")->body_id == 7);
  std::optional<EvictionVictim> first = policy->pop_victim();
  std::optional<EvictionVictim> second = policy->pop_victim();
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE_FALSE(policy->pop_victim());
  const EvictionVictim& a = first->key == "a" ? *first : *second;
  REQUIRE(a.key == "a");
  REQUIRE(a.entry.body_id == 7);
  REQUIRE(a.entry.charged_bytes == 70);
}

TEST_CASE("a lone entry is its own victim", "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> policy = make(name);
  policy->insert("only", {10, 1, 5});
  std::optional<EvictionVictim> v = policy->pop_victim();
  REQUIRE(v);
  REQUIRE(v->key == "only");
  REQUIRE(v->entry.charged_bytes == 10);
  REQUIRE(policy->total_bytes() == 0);
  // The key can come back after its eviction.
  policy->insert("only", {20, 2, 15});
  REQUIRE(policy->find("only")->body_id == 2);
}

TEST_CASE("an entry used since the others is not the first victim", "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> policy = make(name);
  for (const char* key : {"a", "b", "c", "d"}) policy->insert(key, {1000, 1, 900});
  REQUIRE(policy->touch("a"));
  REQUIRE(policy->touch("a"));
  const std::vector<std::string> order = drain(*policy);
  REQUIRE(order.size() == 4);
  REQUIRE(order.front() != "a");
  REQUIRE(order.back() == "a");
}

TEST_CASE("touch(key, n) ranks and evicts as n touches do", "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> one_by_one = make(name);
  std::unique_ptr<EvictionPolicy> batched = make(name);
  for (EvictionPolicy* p : {one_by_one.get(), batched.get()}) {
    for (int i = 0; i < 6; ++i) p->insert("k" + std::to_string(i), {1000u + i * 300u, 1, 900});
  }
  const std::vector<std::pair<std::string, std::uint32_t>> uses{
      {"k4", 7}, {"k1", 1}, {"k2", 30}, {"k4", 2}, {"k0", 0}, {"k5", 3}};
  for (const auto& [key, n] : uses) {
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(one_by_one->touch(key));
    REQUIRE(batched->touch(key, n));
  }
  REQUIRE_FALSE(batched->touch("absent", 5));
  for (int i = 0; i < 6; ++i) {
    const std::string key = "k" + std::to_string(i);
    REQUIRE(batched->rank(key).frequency == one_by_one->rank(key).frequency);
    REQUIRE(batched->rank(key).priority == one_by_one->rank(key).priority);
  }
  REQUIRE(drain(*batched) == drain(*one_by_one));
}

TEST_CASE("ranks and state restored in order of last use give the same victims",
          "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> original = make(name);
  std::vector<std::string> last_use;  // least recent first, as the store keeps it
  std::map<std::string, EvictionEntry> entries;
  auto use = [&](const std::string& key) {
    std::erase(last_use, key);
    last_use.push_back(key);
  };
  for (int i = 0; i < 40; ++i) {
    const std::string key = "k" + std::to_string(i % 13);
    if (original->touch(key)) {
      use(key);
    } else {
      original->record_miss(key);
      const EvictionEntry entry{static_cast<std::uint64_t>(100 + 37 * (i % 7)),
                                static_cast<std::uint64_t>(i + 1), 50};
      original->insert(key, entry);
      entries[key] = entry;
      use(key);
    }
    if (i % 9 == 8) {  // evict now and then, so GDSF's inflation value moves
      const std::optional<EvictionVictim> v = original->pop_victim();
      REQUIRE(v);
      std::erase(last_use, v->key);
      entries.erase(v->key);
    }
  }
  std::unique_ptr<EvictionPolicy> restored = make(name);
  restored->load_state(original->save_state());
  for (const std::string& key : last_use) restored->restore(key, entries[key], original->rank(key));
  REQUIRE(restored->entries() == original->entries());
  REQUIRE(restored->total_bytes() == original->total_bytes());
  // A new key is ranked alike by both.
  original->record_miss("new");
  restored->record_miss("new");
  original->insert("new", {120, 99, 60});
  restored->insert("new", {120, 99, 60});
  REQUIRE(drain(*restored) == drain(*original));
}

TEST_CASE("a foreign or damaged policy state is ignored", "[eviction_policy]") {
  const std::string_view name = GENERATE(from_range(kPolicies));
  INFO(name);
  std::unique_ptr<EvictionPolicy> policy = make(name);
  for (std::string_view state : {std::string_view("garbage"), std::string_view(""),
                                 std::string_view("gdsf1\xff\xff\xff\xff\xff\xff\xff\xff", 13)})
    policy->load_state(state);
  policy->insert("a", {10, 1, 5});
  policy->insert("b", {10, 2, 5});
  REQUIRE(policy->touch("b"));
  REQUIRE(drain(*policy) == std::vector<std::string>{"a", "b"});
}

}  // namespace
}  // namespace cacheproxy::cache
