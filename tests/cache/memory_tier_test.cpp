#include "cache/memory_tier.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <string>
#include <thread>
#include <vector>

#include "cache/cached_object.hpp"

namespace cacheproxy::cache {
namespace {

CachedObjectPtr make_object(std::size_t body_size, std::string_view etag = "\"1\"") {
  auto object = std::make_shared<CachedObject>();
  object->meta.status = 200;
  object->meta.headers.insert("ETag", etag);
  object->meta.body_size = body_size;
  object->body.assign(body_size, 'b');
  return object;
}

TEST_CASE("get returns what put stored, and nullptr for a miss", "[memory_tier]") {
  MemoryTier tier(100'000);
  REQUIRE_FALSE(tier.get("k"));
  const CachedObjectPtr object = make_object(100);
  tier.put("k", object);
  REQUIRE(tier.get("k") == object);
  REQUIRE(tier.entries() == 1);
  REQUIRE(tier.bytes() == MemoryTier::charge("k", *object));
  REQUIRE(tier.bytes() > 100);
}

TEST_CASE("put of a present key replaces it", "[memory_tier]") {
  MemoryTier tier(100'000);
  tier.put("k", make_object(100));
  const CachedObjectPtr newer = make_object(200, "\"2\"");
  tier.put("k", newer);
  REQUIRE(tier.get("k") == newer);
  REQUIRE(tier.entries() == 1);
  REQUIRE(tier.bytes() == MemoryTier::charge("k", *newer));
}

TEST_CASE("least recently used objects are evicted to fit", "[memory_tier]") {
  const std::uint64_t each = MemoryTier::charge("k0", *make_object(1000));
  MemoryTier tier(each * 4 + each / 2);  // four fit, each under a quarter
  for (int i = 0; i < 4; ++i) tier.put(fmt::format("k{}", i), make_object(1000));
  REQUIRE(tier.entries() == 4);
  REQUIRE(tier.get("k0"));  // k1 is now the least recently used
  tier.put("k4", make_object(1000));
  REQUIRE(tier.entries() == 4);
  REQUIRE_FALSE(tier.get("k1"));
  REQUIRE(tier.get("k0"));
  REQUIRE(tier.get("k4"));
  REQUIRE(tier.bytes() <= tier.capacity_bytes());
}

TEST_CASE("a body over a quarter of the capacity is not kept", "[memory_tier]") {
  MemoryTier tier(40'000);
  REQUIRE(tier.max_object_bytes() == 10'000);
  tier.put("exactly", make_object(10'000));
  REQUIRE(tier.get("exactly"));
  tier.put("k", make_object(100));
  tier.put("k", make_object(10'001));
  // Neither the big one nor the older version it replaces.
  REQUIRE_FALSE(tier.get("k"));
  REQUIRE(tier.entries() == 1);
  REQUIRE(tier.bytes() == MemoryTier::charge("exactly", *tier.get("exactly")));
  tier.put("n", nullptr);
  REQUIRE(tier.entries() == 1);

  // A tiny tier keeps nothing whose bookkeeping alone exceeds it.
  MemoryTier tiny(100);
  tiny.put("k", make_object(1));
  REQUIRE(tiny.entries() == 0);
}

TEST_CASE("update_meta keeps the body and replaces the metadata", "[memory_tier]") {
  MemoryTier tier(100'000);
  const CachedObjectPtr old = make_object(100);
  tier.put("k", old);
  EntryMeta meta = old->meta;
  meta.headers.set("ETag", "\"refreshed\"");
  meta.headers.insert("X-Extra", "1");
  tier.update_meta("k", meta);
  const CachedObjectPtr updated = tier.get("k");
  REQUIRE(updated);
  REQUIRE(updated->body == old->body);
  REQUIRE(updated->meta.headers["ETag"] == "\"refreshed\"");
  REQUIRE(old->meta.headers["ETag"] == "\"1\"");  // holders of the old object see no change
  REQUIRE(tier.bytes() == MemoryTier::charge("k", *updated));

  tier.update_meta("missing", meta);
  REQUIRE(tier.entries() == 1);
  // Metadata of another size describes another body: the object is dropped.
  meta.body_size = 5;
  tier.update_meta("k", meta);
  REQUIRE_FALSE(tier.get("k"));
}

TEST_CASE("erase forgets an object", "[memory_tier]") {
  MemoryTier tier(100'000);
  tier.put("a", make_object(10));
  tier.put("b", make_object(10));
  tier.erase("a");
  tier.erase("missing");
  REQUIRE_FALSE(tier.get("a"));
  REQUIRE(tier.get("b"));
  REQUIRE(tier.entries() == 1);
}

TEST_CASE("concurrent use keeps the accounting consistent", "[memory_tier]") {
  MemoryTier tier(50'000);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string key = fmt::format("k{}", (i * 7 + t) % 40);
        switch (i % 4) {
          case 0:
            tier.put(key, make_object(static_cast<std::size_t>(100 + i % 900)));
            break;
          case 1:
            tier.erase(key);
            break;
          default:
            if (CachedObjectPtr o = tier.get(key); o && o->body.size() != o->meta.body_size) ++bad;
        }
        if (tier.bytes() > tier.capacity_bytes()) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(bad == 0);
  REQUIRE(tier.bytes() <= tier.capacity_bytes());
}

}  // namespace
}  // namespace cacheproxy::cache
