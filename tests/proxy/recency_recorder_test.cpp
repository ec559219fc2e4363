// RecencyRecorder (proxy/recency_recorder.hpp) against a real LevelDB store: the uses it
// gathers from memory-tier hits reach the store's eviction policy, every use counted.
#include "proxy/recency_recorder.hpp"

#include <boost/asio/thread_pool.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "cache/leveldb_store.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy;

namespace {

std::unique_ptr<cache::Store> open_store(const std::string& dir, std::uint64_t budget) {
  cache::LevelDbStoreOptions options;
  options.directory = dir;
  options.budget_bytes = budget;
  options.chunk_bytes = 4096;
  options.block_cache_bytes = 1 << 20;
  options.eviction_policy = "gdsf";  // no sketch: every insert starts at one use
  std::string error;
  std::unique_ptr<cache::Store> store = cache::open_leveldb_store(options, &error);
  INFO(error);
  REQUIRE(store);
  return store;
}

void put(cache::Store& store, const std::string& key, std::size_t size) {
  std::unique_ptr<cache::Insert> insert = store.begin_insert(key);
  REQUIRE(insert->append(std::string(size, 'x')));
  cache::EntryMeta meta;
  meta.status = 200;
  meta.body_size = size;
  REQUIRE(insert->commit(std::move(meta)));
}

// A store holding a and b, 10,000 bytes each, in a budget that leaves room for 1,000 more,
// and the pool a recorder hands its batches to.
struct TwoEntries {
  TwoEntries() {
    store = open_store(dir.path().string(), 21'000);
    put(*store, "a", 10'000);
    put(*store, "b", 10'000);
  }
  testing::TempDir dir;
  boost::asio::thread_pool pool{1};
  std::unique_ptr<cache::Store> store;
};

}  // namespace

TEST_CASE("recency recorder: every recorded use counts in the store's eviction order",
          "[recency]") {
  // a and b are the same size; a gets two uses through the recorder, then b one use straight
  // from the store, so b is the most recent. Storing c needs one of them gone: GDSF evicts
  // the one with fewer uses. Counted per use, that is b (2 uses against a's 3); had the
  // recorder passed each key once per batch, a and b would tie at 2 and a, used longer ago,
  // would go.
  TwoEntries t;
  cache::Store* store = t.store.get();
  // Declared after t's pool, which is joined below: its cancelled timer's handler runs there.
  RecencyRecorder recorder(*store, t.pool);
  recorder.record("a");
  recorder.record("a");
  recorder.close();      // hands the batch over now
  recorder.record("b");  // after close: dropped
  store->touch("b");
  put(*store, "c", 1'000);  // small: GDSF values it over both
  CHECK(store->lookup("a"));
  CHECK_FALSE(store->lookup("b"));
  CHECK(store->lookup("c"));
  t.pool.join();
}

TEST_CASE("recency recorder: a batch reaches the store by itself after its delay",
          "[recency]") {
  // Without close(): the timer hands the batch over, on the pool, kDelay after the first use.
  TwoEntries t;
  cache::Store* store = t.store.get();
  RecencyRecorder recorder(*store, t.pool);
  for (int i = 0; i < 5; ++i) recorder.record("a");
  // Five uses of a against b's one: once they arrive, storing c evicts b, not a.
  std::this_thread::sleep_for(RecencyRecorder::kDelay * 5);
  put(*store, "c", 1'000);
  CHECK(store->lookup("a"));
  CHECK_FALSE(store->lookup("b"));
  recorder.close();
  t.pool.join();
}
