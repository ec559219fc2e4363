// The cache and what its budget counts survive a restart.
#include <leveldb/db.h>
#include <leveldb/iterator.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "cache/leveldb_layout.hpp"
#include "support/origin_server.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;

TEST_CASE("restart keeps the cache", "[proxy][cache][restart]") {
  OriginServer origin([](const OriginRequest& r) {
    return make_response(200, "persisted " + r.target, {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  std::uint64_t bytes_before = 0;
  {
    TestProxy proxy(dir.path());
    ProxyClient client(proxy.port());
    CHECK(client.get(origin.url("/p1")).body() == "persisted /p1");
    CHECK(client.get(origin.url("/p2")).body() == "persisted /p2");
    bytes_before = proxy.stored_usage(2).bytes;
    CHECK(bytes_before > 0);
  }
  TestProxy proxy(dir.path());
  CHECK(proxy.server().services().store.usage().entries == 2);
  CHECK(proxy.server().services().store.usage().bytes == bytes_before);
  ProxyClient client(proxy.port());
  CHECK(client.get(origin.url("/p1")).body() == "persisted /p1");
  CHECK(client.get(origin.url("/p2")).body() == "persisted /p2");
  CHECK(origin.request_count() == 2);
  auto lines = proxy.access_log_lines(4);
  REQUIRE(lines.size() >= 4);
  CHECK(lines[2].find(" TCP_HIT/200 ") != std::string::npos);
}

TEST_CASE("the cache budget is enforced by evicting least recently used entries",
          "[proxy][cache]") {
  OriginServer origin([](const OriginRequest&) {
    return make_response(200, std::string(100 * 1024, 'e'), {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.cache_size = 1 << 20;
    c.memory_cache_size = 0;
  });
  ProxyClient client(proxy.port());
  for (int i = 0; i < 30; ++i) client.get(origin.url("/e" + std::to_string(i)));
  auto usage = proxy.server().services().store.usage();
  CHECK(usage.bytes <= (1u << 20));
  CHECK(usage.entries < 30);
  CHECK(usage.entries >= 5);
  CHECK(proxy.server().services().store.counters().evictions > 0);
}

TEST_CASE("disk hits stay whole while eviction churns under concurrent load",
          "[proxy][cache][eviction]") {
  // Two 600 KB objects in a 1 MiB cache: every store of one evicts the other, often while it
  // is being streamed to another client.
  OriginServer origin([](const OriginRequest& r) {
    return make_response(200, std::string(600 * 1000, r.target.back()),
                         {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  TestProxy proxy(dir.path(), [](cacheproxy::Config& c) {
    c.cache_size = 1 << 20;
    c.memory_cache_size = 0;
  });
  std::atomic<int> whole{0};
  std::atomic<int> broken{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      ProxyClient client(proxy.port());
      for (int i = 0; i < 12; ++i) {
        char which = static_cast<char>('a' + (c + i) % 2);
        try {
          Response res = client.get(origin.url(std::string("/big-") + which));
          if (res.body() == std::string(600 * 1000, which)) {
            ++whole;
          } else {
            ++broken;
          }
        } catch (...) {
          ++broken;
          return;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(broken == 0);
  CHECK(whole == 8 * 12);
  CHECK(proxy.server().services().store.counters().evictions > 0);
}

TEST_CASE("a disk hit is one use of its entry in the persisted rank", "[proxy][cache][restart]") {
  // The rank the policy saves at close (use record: sequence, frequency, priority) counts
  // the uses the store saw. A disk hit used to look the key up twice and count two uses,
  // which ranked entries served from disk above those served from memory.
  OriginServer origin([](const OriginRequest& r) {
    return make_response(200, "ranked " + r.target, {{"Cache-Control", "max-age=3600"}});
  });
  TempDir dir;
  {
    TestProxy proxy(dir.path(), [](cacheproxy::Config& c) { c.memory_cache_size = 0; });
    ProxyClient client(proxy.port());
    for (int i = 0; i < 3; ++i) CHECK(client.get(origin.url("/r")).body() == "ranked /r");
    CHECK(origin.request_count() == 1);
    auto lines = proxy.access_log_lines(3);
    REQUIRE(lines.size() >= 3);
    CHECK(lines[1].find(" TCP_HIT/200 ") != std::string::npos);  // from disk: no memory tier
    CHECK(lines[2].find(" TCP_HIT/200 ") != std::string::npos);
  }
  using namespace cacheproxy::cache::leveldb_layout;
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(leveldb::Options(), (dir.path() / "cache").string(), &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions()));
  int records = 0;
  const std::string prefix(kUsePrefix);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ++records;
    const std::string value = it->value().ToString();
    REQUIRE(value.size() == kUseValueBytes);
    std::uint32_t frequency = 0;
    for (int i = 8; i < 12; ++i)
      frequency = (frequency << 8) | static_cast<unsigned char>(value[i]);
    CHECK(frequency == 3);  // the insert (a first request: 1), then two disk hits
  }
  CHECK(records == 1);
}
