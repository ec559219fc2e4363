// The Store conformance suite. Every case is a TEMPLATE_LIST_TEST_CASE over StoreBackends: a
// new backend adds a class with open() (same data each time for a persistent backend) and
// kPersistent, and runs every case. LevelDB-only cases (records damaged on disk) follow.
#include <leveldb/db.h>
#include <leveldb/iterator.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "cache/entry_codec.hpp"
#include "cache/leveldb_layout.hpp"
#include "cache/leveldb_store.hpp"
#include "temp_dir.hpp"

namespace cacheproxy::cache {
namespace {

struct StoreParams {
  std::uint64_t budget_bytes = 64 << 20;
  std::size_t chunk_bytes = 4096;
  std::string eviction_policy = std::string(kDefaultEvictionPolicy);
  std::uint64_t segment_bytes = 0;  // the store's default
};

using testing::TempDir;

class LevelDbBackend {
 public:
  static constexpr bool kPersistent = true;

  std::unique_ptr<Store> open(const StoreParams& params) {
    LevelDbStoreOptions options;
    options.directory = dir_.path();
    options.budget_bytes = params.budget_bytes;
    options.chunk_bytes = params.chunk_bytes;
    options.block_cache_bytes = 1 << 20;
    options.eviction_policy = params.eviction_policy;
    options.segment_bytes = params.segment_bytes;
    std::string error;
    std::unique_ptr<Store> store = open_leveldb_store(options, &error);
    INFO(error);
    REQUIRE(store);
    return store;
  }
  const std::string& directory() const { return dir_.path(); }

 private:
  TempDir dir_;
};

using StoreBackends = std::tuple<LevelDbBackend>;

// Deterministic bytes that differ by seed and by position.
std::string pattern(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

EntryMeta make_meta(std::uint64_t body_size, unsigned seed = 0) {
  EntryMeta m;
  m.status = 200;
  m.headers.insert("Content-Type", "application/octet-stream");
  m.headers.insert("X-Seed", std::to_string(seed));
  m.response_time = TimePoint(std::chrono::seconds(1'700'000'000));
  m.request_time = m.response_time - std::chrono::seconds(1);
  m.body_size = body_size;
  return m;
}

// Stores body under key in appends of uneven sizes. Returns commit()'s answer.
bool put(Store& store, const std::string& key, const std::string& body, unsigned seed = 0) {
  std::unique_ptr<Insert> insert = store.begin_insert(key);
  for (std::size_t at = 0, step = 1000; at < body.size(); at += step, step = step * 3 % 7919 + 1) {
    if (!insert->append(std::string_view(body).substr(at, step))) return false;
  }
  return insert->commit(make_meta(body.size(), seed));
}

std::optional<std::string> read_all(Store& store, std::string_view key, const EntryMeta& meta) {
  return store.read_body(key, meta, 0, meta.body_size);
}

TEMPLATE_LIST_TEST_CASE("put then lookup and read back", "[store]", StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({});
  REQUIRE_FALSE(store->lookup("http://a/"));
  REQUIRE(store->usage().entries == 0);

  const std::string body = pattern(10'000, 1);
  REQUIRE(put(*store, "http://a/", body, 1));
  const std::optional<EntryMeta> meta = store->lookup("http://a/");
  REQUIRE(meta);
  REQUIRE(meta->status == 200);
  REQUIRE(meta->headers["X-Seed"] == "1");
  REQUIRE(meta->body_size == body.size());
  REQUIRE(meta->body_id != 0);
  REQUIRE(meta->response_time == TimePoint(std::chrono::seconds(1'700'000'000)));
  REQUIRE(read_all(*store, "http://a/", *meta) == body);
  REQUIRE(store->usage().entries == 1);
  REQUIRE(store->usage().bytes > body.size());

  REQUIRE(put(*store, "http://empty/", ""));
  const std::optional<EntryMeta> empty = store->lookup("http://empty/");
  REQUIRE(empty);
  REQUIRE(read_all(*store, "http://empty/", *empty) == "");
  REQUIRE(store->usage().entries == 2);
}

TEMPLATE_LIST_TEST_CASE("a multi-chunk body reads back at any offset", "[store]", StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  const std::string body = pattern(1 << 20, 2);
  REQUIRE(put(*store, "k", body));
  const EntryMeta meta = *store->lookup("k");
  REQUIRE(read_all(*store, "k", meta) == body);
  for (std::uint64_t offset : {0, 1, 4095, 4096, 4097, 12288, 500'000, (1 << 20) - 1}) {
    for (std::size_t length : {1, 4095, 4096, 4097, 10'000}) {
      INFO("offset " << offset << " length " << length);
      const std::optional<std::string> part = store->read_body("k", meta, offset, length);
      REQUIRE(part);
      REQUIRE(*part == body.substr(offset, length));  // shorter only at the end
    }
  }
  REQUIRE(store->read_body("k", meta, body.size(), 100) == "");
  REQUIRE(store->read_body("k", meta, 10, 0) == "");
  REQUIRE_FALSE(store->read_body("k", meta, body.size() + 1, 100));
  // A chunk-aligned size has no short last chunk.
  REQUIRE(put(*store, "aligned", pattern(3 * 4096, 3)));
  REQUIRE(read_all(*store, "aligned", *store->lookup("aligned")) == pattern(3 * 4096, 3));
}

TEMPLATE_LIST_TEST_CASE("commit with last bytes stores them as if appended first", "[store]",
                        StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  // Alone and shorter than a chunk, exactly a chunk, after appends, and empty.
  const std::vector<std::pair<std::string, std::size_t>> cases = {
      {"small", 1000}, {"chunk", 4096}, {"after-appends", 0}, {"empty", 0}};
  for (const auto& [key, size] : cases) {
    INFO(key);
    const std::string body = key == "after-appends" ? pattern(3 * 4096 + 500, 7)
                                                    : pattern(size, 5);
    std::unique_ptr<Insert> insert = store->begin_insert(key);
    std::string_view last = body;
    if (key == "after-appends") {
      REQUIRE(insert->append(last.substr(0, 5000)));
      last.remove_prefix(5000);
    }
    REQUIRE(insert->commit(make_meta(body.size()), last));
    const std::optional<EntryMeta> meta = store->lookup(key);
    REQUIRE(meta);
    REQUIRE(meta->body_size == body.size());
    REQUIRE(read_all(*store, key, *meta) == body);
  }
  // A size that disagrees with the bytes stores nothing, and the insert is spent.
  std::unique_ptr<Insert> wrong = store->begin_insert("wrong");
  REQUIRE_FALSE(wrong->commit(make_meta(999), pattern(1000, 1)));
  REQUIRE_FALSE(store->lookup("wrong"));
  REQUIRE_FALSE(wrong->commit(make_meta(1000), pattern(1000, 1)));
  REQUIRE(store->usage().entries == cases.size());
}

TEMPLATE_LIST_TEST_CASE("commit_all commits each insert as commit would", "[store]",
                        StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({.budget_bytes = 1 << 20, .chunk_bytes = 4096});
  REQUIRE(put(*store, "old", pattern(3000, 9)));
  const EntryMeta old_meta = *store->lookup("old");

  struct Case {
    std::string key;
    std::string body;
    std::uint64_t declared;  // body_size in the meta: a wrong one must fail
  };
  const std::vector<Case> cases = {
      {"a", pattern(1000, 1), 1000},
      {"old", pattern(2000, 2), 2000},          // replaces a stored entry
      {"b", pattern(9000, 3), 9000},            // several chunks
      {"a", pattern(1500, 4), 1500},            // the same key again in one batch: it wins
      {"wrong", pattern(100, 5), 99},           // a size that disagrees
      {"huge", pattern(2 << 20, 6), 2 << 20},   // over the whole budget
      {"empty", "", 0},
  };
  std::vector<std::unique_ptr<Insert>> inserts;
  std::vector<PendingCommit> commits;
  for (const Case& c : cases) {
    inserts.push_back(store->begin_insert(c.key));
    commits.push_back(PendingCommit{inserts.back().get(), make_meta(c.declared), c.body,
                                    std::nullopt});
  }
  store->commit_all(commits);
  const std::vector<bool> expected = {true, true, true, true, false, false, true};
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].key << " #" << i);
    REQUIRE(commits[i].committed == expected[i]);
  }
  for (const std::string key : {"old", "b", "empty"}) {
    const Case& c = *std::find_if(cases.begin(), cases.end(),
                                  [&](const Case& x) { return x.key == key; });
    const std::optional<EntryMeta> meta = store->lookup(key);
    REQUIRE(meta);
    REQUIRE(read_all(*store, key, *meta) == c.body);
  }
  const std::optional<EntryMeta> a = store->lookup("a");
  REQUIRE(a);
  REQUIRE(read_all(*store, "a", *a) == cases[3].body);
  REQUIRE_FALSE(store->lookup("wrong"));
  REQUIRE_FALSE(store->lookup("huge"));
  // The replaced body is gone, and usage counts each key once.
  REQUIRE_FALSE(store->read_body("old", old_meta, 0, 10));
  REQUIRE(store->usage().entries == 4);
  // Spent inserts commit nothing more.
  REQUIRE_FALSE(inserts[0]->commit(make_meta(1000), cases[0].body));
}

TEMPLATE_LIST_TEST_CASE("an overwrite replaces atomically and the old body is gone", "[store]",
                        StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({});
  REQUIRE(put(*store, "k", pattern(20'000, 1), 1));
  const EntryMeta old_meta = *store->lookup("k");

  // While the replacement is being written, readers still get the old entry whole.
  std::unique_ptr<Insert> insert = store->begin_insert("k");
  const std::string new_body = pattern(9'000, 2);
  REQUIRE(insert->append(new_body));
  REQUIRE(store->lookup("k")->body_id == old_meta.body_id);
  REQUIRE(read_all(*store, "k", old_meta) == pattern(20'000, 1));
  REQUIRE(insert->commit(make_meta(new_body.size(), 2)));

  const EntryMeta new_meta = *store->lookup("k");
  REQUIRE(new_meta.body_id != old_meta.body_id);
  REQUIRE(new_meta.headers["X-Seed"] == "2");
  REQUIRE(read_all(*store, "k", new_meta) == new_body);
  REQUIRE_FALSE(read_all(*store, "k", old_meta));
  REQUIRE_FALSE(store->read_body("k", old_meta, 0, 10));
  REQUIRE(store->usage().entries == 1);
  REQUIRE(store->counters().corrupt_erased == 0);
}

TEMPLATE_LIST_TEST_CASE("abort, destruction or a bad commit leave nothing", "[store]",
                        StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({});
  {
    std::unique_ptr<Insert> insert = store->begin_insert("aborted");
    REQUIRE(insert->append(pattern(50'000, 1)));
    insert->abort();
    insert->abort();  // twice is fine
    REQUIRE_FALSE(insert->append("more"));
    REQUIRE_FALSE(insert->commit(make_meta(50'000)));
  }
  {
    std::unique_ptr<Insert> dropped = store->begin_insert("dropped");
    REQUIRE(dropped->append(pattern(50'000, 1)));
  }
  REQUIRE(put(*store, "kept", pattern(5'000, 1)));
  {
    std::unique_ptr<Insert> wrong = store->begin_insert("kept");
    REQUIRE(wrong->append(pattern(30'000, 2)));
    REQUIRE_FALSE(wrong->commit(make_meta(29'999)));  // size differs from what was appended
  }
  REQUIRE_FALSE(store->lookup("aborted"));
  REQUIRE_FALSE(store->lookup("dropped"));
  REQUIRE(read_all(*store, "kept", *store->lookup("kept")) == pattern(5'000, 1));
  REQUIRE(store->usage().entries == 1);
}

TEMPLATE_LIST_TEST_CASE("an insert may outlive its store", "[store]", StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({});
  std::unique_ptr<Insert> insert = store->begin_insert("k");
  REQUIRE(insert->append(pattern(20'000, 1)));
  store.reset();
  REQUIRE(insert->append(pattern(20'000, 2)));
  insert->abort();
  insert.reset();
  if constexpr (TestType::kPersistent) {
    store = backend.open({});
    REQUIRE_FALSE(store->lookup("k"));
    REQUIRE(store->usage().entries == 0);
  }
}

TEMPLATE_LIST_TEST_CASE("eviction keeps the budget, least recently used first", "[store]",
                        StoreBackends) {
  TestType backend;
  // Each entry charges its 10 000 body bytes plus a few hundred: four fit, five do not.
  const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096};
  std::unique_ptr<Store> store = backend.open(params);
  for (const char* key : {"a", "b", "c", "d"}) REQUIRE(put(*store, key, pattern(10'000, 1)));
  REQUIRE(store->usage().entries == 4);
  REQUIRE(store->lookup("a"));  // a lookup is a use
  store->touch("b");            // so is a memory-tier hit
  store->touch("missing");
  REQUIRE(put(*store, "e", pattern(10'000, 1)));
  REQUIRE(put(*store, "f", pattern(10'000, 1)));

  REQUIRE_FALSE(store->lookup("c"));
  REQUIRE_FALSE(store->lookup("d"));
  for (const char* key : {"a", "b", "e", "f"}) {
    INFO(key);
    const std::optional<EntryMeta> meta = store->lookup(key);
    REQUIRE(meta);
    REQUIRE(read_all(*store, key, *meta) == pattern(10'000, 1));
  }
  REQUIRE(store->usage().entries == 4);
  REQUIRE(store->usage().bytes <= params.budget_bytes);
  REQUIRE(store->counters().evictions == 2);
  REQUIRE(store->counters().evicted_bytes > 20'000);
}

TEMPLATE_LIST_TEST_CASE("a lookup that does not count is no use", "[store]", StoreBackends) {
  // A request looking again after waiting for another's fetch was counted once already.
  TestType backend;
  const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096};
  std::unique_ptr<Store> store = backend.open(params);
  for (const char* key : {"a", "b", "c", "d"}) REQUIRE(put(*store, key, pattern(10'000, 1)));
  const std::optional<EntryMeta> meta = store->lookup("a", Store::CountUse::no);
  REQUIRE(meta);
  CHECK(read_all(*store, "a", *meta) == pattern(10'000, 1));
  CHECK_FALSE(store->lookup("missing", Store::CountUse::no));
  REQUIRE(put(*store, "e", pattern(10'000, 1)));
  // "a" is still the least recently used: it goes first.
  CHECK_FALSE(store->lookup("a"));
  CHECK(store->lookup("b"));
}

TEMPLATE_LIST_TEST_CASE("an object larger than the budget is refused", "[store]", StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({.budget_bytes = 20'000, .chunk_bytes = 4096});
  REQUIRE(put(*store, "small", pattern(1'000, 1)));
  REQUIRE_FALSE(put(*store, "big", pattern(30'000, 1)));
  // Body within the budget, but not with its metadata and keys.
  REQUIRE_FALSE(put(*store, "almost", pattern(19'990, 1)));
  REQUIRE_FALSE(store->lookup("big"));
  REQUIRE_FALSE(store->lookup("almost"));
  REQUIRE(store->lookup("small"));  // nothing was evicted for them
  REQUIRE(store->usage().entries == 1);
  REQUIRE(store->counters().evictions == 0);
}

TEMPLATE_LIST_TEST_CASE("a restart keeps entries, usage and recency", "[store]", StoreBackends) {
  if constexpr (TestType::kPersistent) {
    TestType backend;
    const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096, .eviction_policy = "lru"};
    std::unique_ptr<Store> store = backend.open(params);
    for (const char* key : {"a", "b", "c", "d"}) REQUIRE(put(*store, key, pattern(10'000, 1)));
    REQUIRE(store->lookup("a"));
    store->touch("b");
    const StoreUsage before = store->usage();
    store.reset();

    store = backend.open(params);
    REQUIRE(store->usage().bytes == before.bytes);
    REQUIRE(store->usage().entries == before.entries);
    REQUIRE(put(*store, "e", pattern(10'000, 2)));
    REQUIRE_FALSE(store->lookup("c"));  // c was least recently used before the restart
    for (const char* key : {"a", "b", "d", "e"}) {
      INFO(key);
      const std::optional<EntryMeta> meta = store->lookup(key);
      REQUIRE(meta);
      REQUIRE(read_all(*store, key, *meta) == pattern(10'000, key[0] == 'e' ? 2 : 1));
    }
    REQUIRE(store->counters().corrupt_erased == 0);
  }
}

TEMPLATE_LIST_TEST_CASE("a restart keeps GDSF frequencies and the sketch of past requests",
                        "[store]", StoreBackends) {
  if constexpr (TestType::kPersistent) {
    TestType backend;
    const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096};
    REQUIRE(params.eviction_policy == "gdsf-sketch");
    std::unique_ptr<Store> store = backend.open(params);
    for (const char* key : {"a", "b", "c", "d"}) REQUIRE(put(*store, key, pattern(10'000, 1)));
    for (int i = 0; i < 3; ++i) {
      for (const char* key : {"a", "b", "d"}) REQUIRE(store->lookup(key));
      REQUIRE_FALSE(store->lookup("e"));  // misses the sketch remembers
    }
    store.reset();

    store = backend.open(params);
    // e comes back with the three requests it missed: c, used once, is the one to go. With
    // the frequencies or the sketch lost, e (a larger body id, one byte more of meta) would
    // rank below c and evict itself.
    REQUIRE(put(*store, "e", pattern(10'000, 2)));
    REQUIRE(store->usage().entries == 4);
    REQUIRE_FALSE(store->lookup("c"));
    for (const char* key : {"a", "b", "d", "e"}) {
      INFO(key);
      REQUIRE(store->lookup(key));
    }
  }
}

TEMPLATE_LIST_TEST_CASE("update_meta replaces the metadata of the same body only", "[store]",
                        StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({});
  REQUIRE(put(*store, "k", pattern(9'000, 1), 1));
  EntryMeta meta = *store->lookup("k");
  meta.headers.set("X-Seed", "refreshed");
  meta.headers.insert("Age", "3");
  meta.response_time += std::chrono::seconds(60);
  REQUIRE(store->update_meta("k", meta));
  const EntryMeta updated = *store->lookup("k");
  REQUIRE(updated.headers["X-Seed"] == "refreshed");
  REQUIRE(updated.headers["Age"] == "3");
  REQUIRE(updated.response_time == meta.response_time);
  REQUIRE(updated.body_id == meta.body_id);
  REQUIRE(read_all(*store, "k", updated) == pattern(9'000, 1));
  REQUIRE(store->usage().entries == 1);

  REQUIRE_FALSE(store->update_meta("missing", meta));
  EntryMeta other_size = meta;
  other_size.body_size += 1;
  REQUIRE_FALSE(store->update_meta("k", other_size));
  REQUIRE(put(*store, "k", pattern(9'000, 2), 2));  // replaced: the old body id is stale
  REQUIRE_FALSE(store->update_meta("k", meta));
  REQUIRE(store->lookup("k")->headers["X-Seed"] == "2");
}

TEMPLATE_LIST_TEST_CASE("erase removes an entry and its body", "[store]", StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({});
  REQUIRE(put(*store, "a", pattern(9'000, 1)));
  REQUIRE(put(*store, "b", pattern(9'000, 1)));
  const EntryMeta meta = *store->lookup("a");
  const std::uint64_t bytes_of_both = store->usage().bytes;
  store->erase("a");
  store->erase("missing");
  REQUIRE_FALSE(store->lookup("a"));
  REQUIRE_FALSE(read_all(*store, "a", meta));
  REQUIRE(store->lookup("b"));
  REQUIRE(store->usage().entries == 1);
  REQUIRE(store->usage().bytes == bytes_of_both / 2);
}

TEMPLATE_LIST_TEST_CASE("quick_miss never claims a stored key is absent", "[store]",
                        StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({});
  // An empty store knows at once that nothing is there (or says "ask lookup()").
  const bool empty_answer = store->quick_miss("a");
  REQUIRE(put(*store, "a", pattern(9'000, 1)));
  CHECK_FALSE(store->quick_miss("a"));
  store->erase("a");
  CHECK(store->quick_miss("a") == empty_answer);
  CHECK(empty_answer);  // the LevelDB store answers from its index
}

TEMPLATE_LIST_TEST_CASE("quick_miss records the miss for the sketch, like lookup", "[store]",
                        StoreBackends) {
  // gdsf-sketch admits an object seen before over one never seen: a key whose misses were
  // counted by quick_miss must rank above a new one. Two objects compete for a budget that
  // holds one; the one with the recorded history must be the one kept.
  TestType backend;
  StoreParams params;
  params.budget_bytes = 14'000;
  std::unique_ptr<Store> store = backend.open(params);
  for (int i = 0; i < 3; ++i) REQUIRE(store->quick_miss("seen-before"));
  REQUIRE(put(*store, "seen-before", pattern(9'000, 1)));
  put(*store, "never-seen", pattern(9'000, 2));
  CHECK(store->lookup("seen-before"));
  CHECK_FALSE(store->lookup("never-seen"));
}

TEMPLATE_LIST_TEST_CASE("concurrent inserts and lookups stay consistent", "[store]",
                        StoreBackends) {
  TestType backend;
  std::unique_ptr<Store> store = backend.open({.budget_bytes = 400'000, .chunk_bytes = 1024});
  std::atomic<int> mismatches{0}, hits{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (unsigned i = 0; i < 150; ++i) {
        const std::string key = "k" + std::to_string((i * 5 + t) % 12);
        if (i % 3 == 0) {
          const unsigned seed = t * 1000 + i;
          (void)put(*store, key, pattern(2'000 + seed % 7'000, seed), seed);
        } else if (i % 17 == 1) {
          store->erase(key);
        } else if (std::optional<EntryMeta> meta = store->lookup(key)) {
          const unsigned seed = std::stoul(std::string(meta->headers["X-Seed"]));
          // nullopt is allowed (replaced meanwhile); wrong bytes never are.
          if (std::optional<std::string> body = read_all(*store, key, *meta)) {
            ++hits;
            if (*body != pattern(meta->body_size, seed)) ++mismatches;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  REQUIRE(mismatches == 0);
  REQUIRE(hits > 0);
  REQUIRE(store->usage().bytes <= 400'000);
  REQUIRE(store->counters().corrupt_erased == 0);
}

// ---- LevelDB only: records damaged or left behind on disk ----

// The body segment files of a store, in name order, and their total size.
std::vector<std::filesystem::path> segment_files(const std::string& directory) {
  std::vector<std::filesystem::path> out;
  for (const auto& f : std::filesystem::directory_iterator(std::filesystem::path(directory) / "bodies"))
    out.push_back(f.path());
  std::sort(out.begin(), out.end());
  return out;
}
std::uint64_t segment_files_bytes(const std::string& directory) {
  std::uint64_t total = 0;
  for (const auto& f : segment_files(directory)) total += std::filesystem::file_size(f);
  return total;
}

// Direct access to a closed store's database.
class RawDb {
 public:
  explicit RawDb(const std::string& directory) {
    leveldb::Options options;
    options.create_if_missing = true;  // to write a store of another format from scratch
    leveldb::DB* db = nullptr;
    REQUIRE(leveldb::DB::Open(options, directory, &db).ok());
    db_.reset(db);
  }
  std::vector<std::string> keys(std::string_view prefix) {
    std::vector<std::string> out;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek({prefix.data(), prefix.size()});
         it->Valid() && it->key().starts_with({prefix.data(), prefix.size()}); it->Next())
      out.push_back(it->key().ToString());
    return out;
  }
  void put(const std::string& key, const std::string& value) {
    REQUIRE(db_->Put(leveldb::WriteOptions(), key, value).ok());
  }
  std::string get(const std::string& key) {
    std::string value;
    REQUIRE(db_->Get(leveldb::ReadOptions(), key, &value).ok());
    return value;
  }
  void erase(const std::string& key) { REQUIRE(db_->Delete(leveldb::WriteOptions(), key).ok()); }

 private:
  std::unique_ptr<leveldb::DB> db_;
};

TEMPLATE_LIST_TEST_CASE("a pinned body stays readable until its last pin goes", "[store]",
                        StoreBackends) {
  TestType backend;
  const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096, .eviction_policy = "lru"};
  std::unique_ptr<Store> store = backend.open(params);
  REQUIRE(put(*store, "a", pattern(10'000, 1)));
  REQUIRE(put(*store, "b", pattern(10'000, 1)));
  const EntryMeta a = *store->lookup("a");
  const EntryMeta b = *store->lookup("b");
  std::unique_ptr<BodyPin> a_pin = store->pin_body("a", a);
  std::unique_ptr<BodyPin> a_pin2 = store->pin_body("a", a);
  std::unique_ptr<BodyPin> b_pin = store->pin_body("b", b);
  REQUIRE(a_pin);
  REQUIRE(a_pin2);
  REQUIRE(b_pin);
  REQUIRE_FALSE(store->pin_body("missing", a));
  EntryMeta other_body = a;
  ++other_body.body_id;
  REQUIRE_FALSE(store->pin_body("a", other_body));

  // a replaced, then erased; b evicted (least recently used) by four new entries.
  REQUIRE(put(*store, "a", pattern(10'000, 2)));
  REQUIRE(read_all(*store, "a", *store->lookup("a")) == pattern(10'000, 2));
  store->erase("a");
  for (const char* key : {"c", "d", "e", "f"}) REQUIRE(put(*store, key, pattern(10'000, 3)));
  REQUIRE_FALSE(store->lookup("a"));
  REQUIRE_FALSE(store->lookup("b"));
  REQUIRE(store->usage().bytes <= params.budget_bytes);  // pinned bodies are not charged
  REQUIRE(read_all(*store, "a", a) == pattern(10'000, 1));
  REQUIRE(store->read_body("b", b, 9'000, 5'000) == pattern(10'000, 1).substr(9'000));
  REQUIRE(store->pin_body("a", a));  // a released body can be pinned again while pinned

  a_pin.reset();
  REQUIRE(read_all(*store, "a", a) == pattern(10'000, 1));  // one pin left
  a_pin2.reset();
  b_pin.reset();
  REQUIRE_FALSE(store->read_body("a", a, 0, 100));
  REQUIRE_FALSE(store->read_body("b", b, 0, 100));
  REQUIRE_FALSE(store->pin_body("a", a));
  REQUIRE(put(*store, "g", pattern(10'000, 4)));  // the next write deletes their chunks
  REQUIRE(store->counters().corrupt_erased == 0);
  if constexpr (TestType::kPersistent) {
    store.reset();
    using namespace leveldb_layout;
    RawDb raw(backend.directory());
    for (std::uint64_t id : {a.body_id, b.body_id}) {
      REQUIRE(raw.keys(body_prefix(id)).empty());
      REQUIRE(raw.keys(intent_key(id)).empty());
    }
    REQUIRE(raw.keys(kIntentPrefix).empty());
  }
}

TEST_CASE("a body still pinned at a crash is deleted at the next open", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  REQUIRE(put(*store, "a", pattern(10'000, 1)));
  const EntryMeta a = *store->lookup("a");
  std::unique_ptr<BodyPin> pin = store->pin_body("a", a);
  store->erase("a");
  // What a crash now leaves on disk: a copy of the files (LevelDB's log holds every write
  // made), opened as the restarted process would.
  TempDir copy;
  std::filesystem::copy(backend.directory(), copy.path(),
                        std::filesystem::copy_options::recursive |
                            std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(copy.path() + "/LOCK");
  pin.reset();
  store.reset();
  {
    RawDb raw(copy.path());
    REQUIRE(raw.keys(meta_key("a")).empty());
    REQUIRE(raw.keys(intent_key(a.body_id)).size() == 1);
    REQUIRE(raw.keys(body_prefix(a.body_id)).size() == 3);
  }
  LevelDbStoreOptions options;
  options.directory = copy.path();
  options.chunk_bytes = 4096;
  std::string error;
  store = open_leveldb_store(options, &error);
  REQUIRE(store);
  REQUIRE(store->usage().entries == 0);
  store.reset();
  RawDb raw(copy.path());
  REQUIRE(raw.keys(body_prefix(a.body_id)).empty());
  REQUIRE(raw.keys(kIntentPrefix).empty());
}

TEST_CASE("chunks of an insert that never committed are gone after reopen", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  REQUIRE(put(*store, "kept", pattern(10'000, 1)));
  const StoreUsage usage = store->usage();
  for (const char* key : {"kept", "new"}) {  // a replacement and a first insert, both cut off
    std::unique_ptr<Insert> insert = store->begin_insert(key);
    REQUIRE(insert->append(pattern(40'000, 2)));
    REQUIRE(abandon_insert_for_testing(*insert));
  }
  store.reset();
  {
    RawDb raw(backend.directory());  // the crash left chunks and their intents
    REQUIRE(raw.keys(kIntentPrefix).size() == 2);
    REQUIRE(raw.keys(kBodyPrefix).size() == 3 + 2 * 9);
  }
  store = backend.open({.chunk_bytes = 4096});
  REQUIRE(store->usage().bytes == usage.bytes);
  REQUIRE(store->usage().entries == 1);
  REQUIRE_FALSE(store->lookup("new"));
  REQUIRE(read_all(*store, "kept", *store->lookup("kept")) == pattern(10'000, 1));
  store.reset();
  RawDb raw(backend.directory());
  REQUIRE(raw.keys(kIntentPrefix).empty());
  REQUIRE(raw.keys(kBodyPrefix).size() == 3);  // only the committed body's chunks
}

TEST_CASE("a corrupt meta record is erased and counted", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({});
  REQUIRE(put(*store, "bad", pattern(10'000, 1)));
  REQUIRE(put(*store, "flipped", pattern(10'000, 1)));
  REQUIRE(put(*store, "good", pattern(10'000, 1)));
  const std::uint64_t bad_id = store->lookup("bad")->body_id;
  const std::uint64_t flipped_id = store->lookup("flipped")->body_id;
  const std::uint64_t good_id = store->lookup("good")->body_id;
  store.reset();
  {
    RawDb raw(backend.directory());
    raw.put(meta_key("bad"), "garbage");
    std::string flipped = encode_entry_meta(make_meta(10'000));
    flipped[5] ^= 0x10;
    raw.put(meta_key("flipped"), flipped);
  }
  store = backend.open({});
  REQUIRE_FALSE(store->lookup("bad"));
  REQUIRE_FALSE(store->lookup("flipped"));
  REQUIRE(store->counters().corrupt_erased == 2);
  REQUIRE(store->usage().entries == 1);
  REQUIRE(read_all(*store, "good", *store->lookup("good")) == pattern(10'000, 1));
  store.reset();
  RawDb raw(backend.directory());
  REQUIRE(raw.keys(meta_key("bad")).empty());
  // The lost metas named their bodies: the sweep at open found them by elimination.
  for (std::uint64_t id : {bad_id, flipped_id}) {
    REQUIRE(raw.keys(use_key(id)).empty());
    REQUIRE(raw.keys(body_prefix(id)).empty());
  }
  REQUIRE(raw.keys(use_key(good_id)).size() == 1);
  REQUIRE(raw.keys(body_prefix(good_id)).size() == 3);
  REQUIRE(raw.keys(kBodyPrefix).size() == 3);
  REQUIRE(raw.keys(kOrphansKey).empty());
}

TEST_CASE("a damaged chunk fails the read and erases the entry", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  REQUIRE(put(*store, "k", pattern(10'000, 1)));
  const std::uint64_t body_id = store->lookup("k")->body_id;
  store.reset();
  RawDb(backend.directory()).put(chunk_key(body_id, 1), "short");
  store = backend.open({.chunk_bytes = 4096});
  const EntryMeta meta = *store->lookup("k");
  REQUIRE(store->read_body("k", meta, 0, 100) == pattern(100, 1));  // chunk 0 is intact
  REQUIRE_FALSE(store->read_body("k", meta, 5000, 100));
  REQUIRE(store->counters().corrupt_erased == 1);
  REQUIRE_FALSE(store->lookup("k"));
  REQUIRE(store->usage().entries == 0);
}

TEST_CASE("a damaged byte in a body segment fails the read and erases the entry",
          "[store][leveldb]") {
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  REQUIRE(put(*store, "k", pattern(10'000, 1)));
  store.reset();
  const std::vector<std::filesystem::path> files = segment_files(backend.directory());
  REQUIRE(files.size() == 1);
  {
    // Byte 5000 is in chunk 1 (bytes 4096-8191).
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.put(static_cast<char>(pattern(10'000, 1)[5000] ^ 0x20));
  }
  store = backend.open({.chunk_bytes = 4096});
  const EntryMeta meta = *store->lookup("k");
  REQUIRE(store->read_body("k", meta, 0, 100) == pattern(100, 1));  // chunk 0 is intact
  REQUIRE_FALSE(store->read_body("k", meta, 4096, 100));
  REQUIRE(store->counters().corrupt_erased == 1);
  REQUIRE_FALSE(store->lookup("k"));
}

TEST_CASE("a truncated or missing body segment fails the read, never serves short bytes",
          "[store][leveldb]") {
  for (const bool remove : {false, true}) {
    INFO("remove: " << remove);
    LevelDbBackend backend;
    std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
    REQUIRE(put(*store, "k", pattern(10'000, 1)));
    store.reset();
    const std::vector<std::filesystem::path> files = segment_files(backend.directory());
    REQUIRE(files.size() == 1);
    if (remove)
      std::filesystem::remove(files[0]);
    else
      std::filesystem::resize_file(files[0], 9'000);
    store = backend.open({.chunk_bytes = 4096});
    const EntryMeta meta = *store->lookup("k");
    REQUIRE_FALSE(store->read_body("k", meta, 0, meta.body_size));
    REQUIRE(store->counters().corrupt_erased == 1);
  }
}

TEST_CASE("the segment collector keeps disk use within its allowance, every entry whole",
          "[store][leveldb]") {
  // 64 KiB segments, a 400 KB budget: the allowance is 400 KB x 1.25 + 2 segments. Writers
  // replace and evict entries (leaving garbage in every segment) while a reader checks every
  // body it gets; the collector copies live extents out from under it.
  constexpr std::uint64_t kBudget = 400'000;
  constexpr std::uint64_t kSegment = 64 << 10;
  constexpr std::uint64_t kAllowance = kBudget + kBudget / 4 + 2 * kSegment;
  LevelDbBackend backend;
  const StoreParams params{
      .budget_bytes = kBudget, .chunk_bytes = 4096, .segment_bytes = kSegment};
  std::unique_ptr<Store> store = backend.open(params);
  std::atomic<bool> writing{true};
  std::atomic<int> mismatches{0}, hits{0};
  std::thread reader([&] {
    for (unsigned i = 0; writing || i < 2'000; ++i) {
      const std::string key = "k" + std::to_string(i % 60);
      if (std::optional<EntryMeta> meta = store->lookup(key)) {
        const unsigned seed = std::stoul(std::string(meta->headers["X-Seed"]));
        if (std::optional<std::string> body = read_all(*store, key, *meta)) {
          ++hits;
          if (*body != pattern(meta->body_size, seed)) ++mismatches;
        }
      }
    }
  });
  std::uint64_t written = 0;
  for (unsigned seed = 1; seed <= 1'500; ++seed) {
    const std::size_t size = 1'000 + seed * 7'919 % 15'000;
    REQUIRE(put(*store, "k" + std::to_string(seed * 37 % 60), pattern(size, seed), seed));
    written += size;
  }
  writing = false;
  reader.join();
  REQUIRE(written > 20 * kAllowance);  // without collection the segments would hold it all
  REQUIRE(mismatches == 0);
  REQUIRE(hits > 0);
  REQUIRE(store->counters().corrupt_erased == 0);
  // The collector runs on its own thread: give it a few seconds to catch up.
  for (int i = 0; i < 100 && store->usage().body_file_bytes > kAllowance; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // body_file_bytes counts the write buffer's bytes too, which are not in the files yet.
  REQUIRE(store->usage().body_file_bytes <= kAllowance);
  REQUIRE(segment_files_bytes(backend.directory()) <= store->usage().body_file_bytes);
  // Segments went both ways: emptied by replacement alone, and with live extents moved out.
  REQUIRE(store->counters().segments_collected > 5);
  REQUIRE(store->counters().collected_bytes_copied > 0);

  // Every entry the index holds reads back whole, now and after a restart.
  auto check_all = [&](Store& s) {
    std::uint64_t found = 0;
    for (unsigned k = 0; k < 60; ++k) {
      const std::string key = "k" + std::to_string(k);
      const std::optional<EntryMeta> meta = s.lookup(key);
      if (!meta) continue;
      ++found;
      const unsigned seed = std::stoul(std::string(meta->headers["X-Seed"]));
      REQUIRE(read_all(s, key, *meta) == pattern(meta->body_size, seed));
    }
    return found;
  };
  const std::uint64_t entries = store->usage().entries;
  REQUIRE(entries > 10);
  REQUIRE(check_all(*store) == entries);
  store.reset();
  store = backend.open(params);
  REQUIRE(check_all(*store) == entries);
  REQUIRE(store->counters().corrupt_erased == 0);
}

TEST_CASE("segments of a discarded store go with it", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  REQUIRE(put(*store, "k", pattern(10'000, 1)));
  store.reset();
  RawDb(backend.directory()).put(std::string(kFormatKey), fixed64(kFormatVersion - 1));
  store = backend.open({.chunk_bytes = 4096});
  REQUIRE_FALSE(store->lookup("k"));
  REQUIRE(segment_files_bytes(backend.directory()) == 0);
}

TEST_CASE("the chunk size is fixed when the store is created", "[store][leveldb]") {
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  REQUIRE(put(*store, "k", pattern(30'000, 1)));
  store.reset();
  store = backend.open({.chunk_bytes = 10'000});
  REQUIRE(read_all(*store, "k", *store->lookup("k")) == pattern(30'000, 1));
}

TEST_CASE("a store opens without its policy state and with old use records", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096};
  std::unique_ptr<Store> store = backend.open(params);
  for (const char* key : {"a", "b", "c", "d"}) REQUIRE(put(*store, key, pattern(10'000, 1)));
  for (int i = 0; i < 3; ++i)
    for (const char* key : {"a", "b", "d"}) REQUIRE(store->lookup(key));
  const std::uint64_t a_id = store->lookup("a")->body_id;
  const std::uint64_t c_id = store->lookup("c")->body_id;
  store.reset();
  const std::filesystem::path state_file =
      std::filesystem::path(backend.directory()) / kPolicyStateFile;
  REQUIRE(std::filesystem::exists(state_file));
  // What a crash leaves (no saved state) and a use record without a rank (as an early
  // version wrote them).
  std::filesystem::remove(state_file);
  {
    RawDb raw(backend.directory());
    REQUIRE(raw.get(use_key(a_id)).size() == kUseValueBytes);
    raw.put(use_key(c_id), fixed64(1));
  }
  store = backend.open(params);
  REQUIRE(store->usage().entries == 4);
  // Without the saved L, the store takes the lowest restored priority: the new entry ranks
  // above c (no rank: as new) instead of below everything restored, so c goes, not e.
  REQUIRE(put(*store, "e", pattern(10'000, 2)));
  REQUIRE_FALSE(store->lookup("c"));
  for (const char* key : {"a", "b", "d", "e"}) {
    INFO(key);
    REQUIRE(store->lookup(key));
  }
  REQUIRE(store->counters().corrupt_erased == 0);
}

// Reads the saved policy state file of a closed store, or fails.
std::string read_state_file(const std::string& directory) {
  std::ifstream in(std::filesystem::path(directory) / leveldb_layout::kPolicyStateFile,
                   std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("the policy state is loaded once: a crash after an open finds none",
          "[store][leveldb]") {
  LevelDbBackend backend;
  const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096};
  const std::filesystem::path state_file =
      std::filesystem::path(backend.directory()) / leveldb_layout::kPolicyStateFile;
  std::unique_ptr<Store> store = backend.open(params);
  REQUIRE(put(*store, "a", pattern(10'000, 1)));
  CHECK_FALSE(std::filesystem::exists(state_file));
  store.reset();
  const std::string saved = read_state_file(backend.directory());
  CHECK(saved.size() > 1000);  // the sketch
  CHECK_FALSE(std::filesystem::exists(state_file.string() + ".tmp"));

  store = backend.open(params);
  // Loaded and removed: were the process killed now, the next open would start afresh
  // instead of loading a state older than the entries' use records.
  CHECK_FALSE(std::filesystem::exists(state_file));
  REQUIRE(store->lookup("a"));
  store.reset();
  CHECK(std::filesystem::exists(state_file));
}

TEST_CASE("a policy state saved under the old key is loaded and the key deleted",
          "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  const StoreParams params{.budget_bytes = 45'000, .chunk_bytes = 4096};
  std::unique_ptr<Store> store = backend.open(params);
  for (const char* key : {"a", "b", "c", "d"}) REQUIRE(put(*store, key, pattern(10'000, 1)));
  for (int i = 0; i < 3; ++i) {
    for (const char* key : {"a", "b", "d"}) REQUIRE(store->lookup(key));
    REQUIRE_FALSE(store->lookup("e"));
  }
  store.reset();
  // Where stores before the state file kept it.
  const std::string saved = read_state_file(backend.directory());
  std::filesystem::remove(std::filesystem::path(backend.directory()) / kPolicyStateFile);
  RawDb(backend.directory()).put(std::string(kPolicyStateKey), saved);

  store = backend.open(params);
  // As in "a restart keeps GDSF frequencies": only with the sketch loaded does e, missed
  // three times, outrank c.
  REQUIRE(put(*store, "e", pattern(10'000, 2)));
  REQUIRE_FALSE(store->lookup("c"));
  REQUIRE(store->lookup("e"));
  store.reset();
  CHECK(RawDb(backend.directory()).keys(kPolicyStateKey).empty());
  CHECK(read_state_file(backend.directory()).size() == saved.size());
}

TEST_CASE("an entry is charged exactly the records it keeps, its key once", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  const std::string key = "http://example.test/some/long/path/to/an/object.png?v=123";
  REQUIRE(put(*store, key, pattern(10'000, 1)));  // three chunks
  const std::uint64_t charged = store->usage().bytes;
  const std::uint64_t body_id = store->lookup(key)->body_id;
  store.reset();
  RawDb raw(backend.directory());
  std::uint64_t stored = 10'000;  // the body, in a segment file
  for (const std::string& prefix : {meta_key(key), use_key(body_id), body_prefix(body_id)}) {
    for (const std::string& record : raw.keys(prefix))
      stored += record.size() + raw.get(record).size();
  }
  REQUIRE(stored == charged);
  // Written at close, padded to the 4 KiB that direct I/O writes in.
  REQUIRE(segment_files_bytes(backend.directory()) == 12'288);
  // The key is stored once: besides the body and the meta value, 2 + |K| + 30 + 3 x (14 + 20).
  const std::uint64_t meta_bytes = raw.get(meta_key(key)).size();
  REQUIRE(charged == 10'000 + meta_bytes + 2 + key.size() + 30 + 3 * 34);
  REQUIRE(raw.keys(kFormatKey).size() == 1);
  REQUIRE(raw.get(std::string(kFormatKey)) == fixed64(kFormatVersion));
}

// Writes, into a closed store's directory, the records of one entry as format 1 wrote them
// (no !format record; the key repeated in the use and chunk keys).
void write_format1_entry(const std::string& directory, const std::string& key,
                         std::uint64_t body_id, const std::string& body) {
  using namespace leveldb_layout;
  RawDb raw(directory);
  raw.put(std::string(kChunkBytesKey), fixed64(4096));
  raw.put(std::string(kBodyIdLimitKey), fixed64(body_id + 4096));
  std::string meta(1, '\xCE');
  meta += "\x01 arbitrary version 1 bytes";
  raw.put("m/" + key, meta);
  raw.put("u/" + key, fixed64(1));
  std::string chunk = "b/" + key + std::string(1, '\0') + fixed64(body_id);
  put_big_endian(chunk, 0, 4);
  raw.put(chunk, body);
}

TEST_CASE("a store of another format is discarded at open", "[store][leveldb]") {
  using namespace leveldb_layout;
  for (const bool newer : {false, true}) {
    INFO("newer: " << newer);
    LevelDbBackend backend;
    write_format1_entry(backend.directory(), "old", 7, pattern(1000, 1));
    if (newer) RawDb(backend.directory()).put(std::string(kFormatKey), fixed64(kFormatVersion + 1));
    std::unique_ptr<Store> store = backend.open({.chunk_bytes = 8192});
    REQUIRE(store->usage().entries == 0);
    REQUIRE(store->usage().bytes == 0);
    REQUIRE_FALSE(store->lookup("old"));
    REQUIRE(store->counters().corrupt_erased == 0);
    REQUIRE(put(*store, "new", pattern(20'000, 2)));
    REQUIRE(read_all(*store, "new", *store->lookup("new")) == pattern(20'000, 2));
    store.reset();
    {
      RawDb raw(backend.directory());
      REQUIRE(raw.keys("m/").size() == 1);
      REQUIRE(raw.keys("u/").size() == 1);
      // The discarded store's chunk size went with it: 20 000 bytes are 3 chunks of 8192.
      REQUIRE(raw.keys("b/").size() == 3);
      REQUIRE(raw.get(std::string(kChunkBytesKey)) == fixed64(8192));
      REQUIRE(raw.get(std::string(kFormatKey)) == fixed64(kFormatVersion));
    }
    // Reopening a store of this format keeps it.
    store = backend.open({.chunk_bytes = 4096});
    REQUIRE(store->usage().entries == 1);
    REQUIRE(read_all(*store, "new", *store->lookup("new")) == pattern(20'000, 2));
  }
}

TEST_CASE("bodies no meta names are deleted at open when flagged", "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  REQUIRE(put(*store, "lost", pattern(10'000, 1)));
  REQUIRE(put(*store, "kept", pattern(10'000, 2)));
  const std::uint64_t lost_id = store->lookup("lost")->body_id;
  const std::uint64_t kept_id = store->lookup("kept")->body_id;
  store->erase("never-stored");  // erasing an unknown key flags nothing
  store.reset();
  {
    RawDb raw(backend.directory());
    REQUIRE(raw.keys(kOrphansKey).empty());
    raw.erase(meta_key("lost"));  // its body and use record stay, unnamed
  }
  store = backend.open({.chunk_bytes = 4096});  // not flagged: nothing is swept
  REQUIRE(store->usage().entries == 1);
  store.reset();
  {
    RawDb raw(backend.directory());
    REQUIRE(raw.keys(body_prefix(lost_id)).size() == 3);
    REQUIRE(raw.keys(use_key(lost_id)).empty());  // use records are checked at every open
    raw.put(std::string(kOrphansKey), "");
  }
  store = backend.open({.chunk_bytes = 4096});
  REQUIRE(store->usage().entries == 1);
  REQUIRE(read_all(*store, "kept", *store->lookup("kept")) == pattern(10'000, 2));
  store.reset();
  RawDb raw(backend.directory());
  REQUIRE(raw.keys(body_prefix(lost_id)).empty());
  REQUIRE(raw.keys(body_prefix(kept_id)).size() == 3);
  REQUIRE(raw.keys(kOrphansKey).empty());
}

TEST_CASE("open refuses bad options", "[store][leveldb]") {
  TempDir dir;
  LevelDbStoreOptions options;
  options.directory = dir.path();
  std::string error;
  options.eviction_policy = "no-such-policy";
  REQUIRE_FALSE(open_leveldb_store(options, &error));
  REQUIRE_THAT(error, Catch::Contains("no-such-policy"));
  options.eviction_policy = "lru";
  options.chunk_bytes = 0;
  REQUIRE_FALSE(open_leveldb_store(options, &error));
  options.chunk_bytes = 4096;
  options.directory = dir.path() + "/missing-parent/a/b";
  // LevelDB creates only the last path component.
  REQUIRE_FALSE(open_leveldb_store(options, &error));
  REQUIRE_FALSE(error.empty());
}

TEST_CASE("erase_prefix removes the entries under a prefix, records and chunks",
          "[store][leveldb]") {
  using namespace leveldb_layout;
  LevelDbBackend backend;
  std::unique_ptr<Store> store = backend.open({.chunk_bytes = 4096});
  // A URL's variants (cache/variants.hpp: URL key, \x1f, nonce, '/', hash) of two marker
  // generations, the URL key itself and a longer URL that shares its text.
  const std::string url = "http://a/x";
  const std::vector<std::string> variants{url + "\x1f" "1/a", url + "\x1f" "1/b", url + "\x1f" "2/c"};
  for (const std::string& key : variants) REQUIRE(put(*store, key, pattern(10'000, 3)));
  REQUIRE(put(*store, url, pattern(5'000, 4)));
  REQUIRE(put(*store, url + "y", pattern(5'000, 5)));
  const StoreUsage before = store->usage();
  REQUIRE(before.entries == 5);

  CHECK(store->erase_prefix(url + "\x1f") == 3);
  CHECK(store->erase_prefix(url + "\x1f") == 0);  // nothing left to erase
  for (const std::string& key : variants) CHECK_FALSE(store->lookup(key));
  CHECK(store->lookup(url));
  CHECK(store->lookup(url + "y"));
  CHECK(store->usage().entries == 2);
  CHECK(store->usage().bytes < before.bytes);
  store.reset();

  // Nothing of the variants is left in the database: no meta, use or chunk record.
  RawDb raw(backend.directory());
  // (Use records and chunks are keyed by body id: only the two kept entries' remain.)
  CHECK(raw.keys(meta_key(url + "\x1f")).empty());
  CHECK(raw.keys(kMetaPrefix).size() == 2);
  CHECK(raw.keys(kUsePrefix).size() == 2);
  CHECK(raw.keys(kBodyPrefix).size() == 2 * 2);  // two 5'000-byte bodies of 4096-byte chunks
}

}  // namespace
}  // namespace cacheproxy::cache
