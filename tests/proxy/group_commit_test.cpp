// GroupCommitter (proxy/group_commit.hpp) on a real LevelDB store: many exchanges committing
// at once from two threads are batched, and each entry is stored once and reads back whole;
// a commit asked for after stop() completes with false instead of waiting forever.
#include "proxy/group_commit.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache/crc32c.hpp"
#include "cache/leveldb_store.hpp"
#include "support/test_proxy.hpp"

namespace asio = boost::asio;
using namespace cacheproxy;
using cacheproxy::testing::TempDir;

namespace {

std::unique_ptr<cache::Store> open_store(const TempDir& dir) {
  cache::LevelDbStoreOptions options;
  options.directory = (dir.path() / "store").string();
  options.budget_bytes = 256 << 20;
  std::string error;
  std::unique_ptr<cache::Store> store = cache::open_leveldb_store(options, &error);
  INFO(error);
  REQUIRE(store);
  return store;
}

std::string body_of(int i) {
  std::string body(1000 + (i * 7919) % 30'000, '\0');
  for (std::size_t k = 0; k < body.size(); ++k) body[k] = static_cast<char>(i * 31 + k * 7);
  return body;
}

cache::EntryMeta meta_for(const std::string& body) {
  cache::EntryMeta meta;
  meta.status = 200;
  meta.headers.insert("Content-Type", "application/octet-stream");
  meta.response_time = cache::TimePoint(std::chrono::seconds(1'764'000'000));
  meta.request_time = meta.response_time;
  meta.body_size = body.size();
  return meta;
}

// One exchange's commit, as CacheFill makes it: the insert begun by the committer, the body's
// CRC-32C given as a body read in place has it, or left to the store.
asio::awaitable<bool> commit_one(GroupCommitter& committer, std::string key, std::string body,
                                 std::optional<std::uint32_t> crc = std::nullopt) {
  std::unique_ptr<cache::Insert> insert;
  const bool ok = co_await committer.commit(insert, key, meta_for(body), body, crc);
  co_return ok;
}

}  // namespace

TEST_CASE("concurrent commits are each stored once and whole", "[group_commit]") {
  TempDir dir;
  std::unique_ptr<cache::Store> store = open_store(dir);
  GroupCommitter committer(*store);
  asio::io_context ioc;
  constexpr int kCommits = 300;
  std::vector<std::future<bool>> results;
  for (int i = 0; i < kCommits; ++i) {
    // Every tenth key is committed twice, from two exchanges at once: one replaces the other.
    const int key = i % 10 == 9 ? i - 1 : i;
    // Half of them come with the body's CRC, as a body read in place does.
    const auto crc = i % 2 ? std::optional(cache::crc32c(body_of(i))) : std::nullopt;
    results.push_back(asio::co_spawn(ioc, commit_one(committer, "k" + std::to_string(key),
                                                     body_of(i), crc),
                                     asio::use_future));
  }
  std::thread second([&] { ioc.run(); });
  ioc.run();
  second.join();
  for (auto& r : results) CHECK(r.get());
  committer.stop();

  CHECK(store->usage().entries == kCommits - kCommits / 10);
  for (int key = 0; key < kCommits; ++key) {
    if (key % 10 == 9) continue;  // committed under key - 1
    INFO(key);
    std::optional<cache::EntryMeta> meta = store->lookup("k" + std::to_string(key));
    REQUIRE(meta);
    std::optional<std::string> read = store->read_body("k" + std::to_string(key), *meta, 0,
                                                      meta->body_size);
    REQUIRE(read);
    // Whole, and one of the bodies committed under the key (either may have gone last).
    if (key % 10 == 8)
      CHECK((*read == body_of(key) || *read == body_of(key + 1)));
    else
      CHECK(*read == body_of(key));
  }
}

TEST_CASE("the CRC a commit comes with is the one the body is checked against",
          "[group_commit]") {
  TempDir dir;
  std::unique_ptr<cache::Store> store = open_store(dir);
  GroupCommitter committer(*store);
  asio::io_context ioc;
  const std::string body = body_of(3);
  auto right = asio::co_spawn(ioc, commit_one(committer, "right", body, cache::crc32c(body)),
                              asio::use_future);
  auto wrong = asio::co_spawn(
      ioc, commit_one(committer, "wrong", body, cache::crc32c(body) ^ 1), asio::use_future);
  ioc.run();
  REQUIRE(right.get());
  REQUIRE(wrong.get());
  committer.stop();
  auto read = [&](const std::string& key) -> std::optional<std::string> {
    std::optional<cache::EntryMeta> meta = store->lookup(key);
    if (!meta) return std::nullopt;
    return store->read_body(key, *meta, 0, meta->body_size);
  };
  CHECK(read("right") == body);
  // Served from the segment file or its write buffer alike, a body whose bytes do not match
  // its CRC is never returned.
  CHECK_FALSE(read("wrong"));
}

TEST_CASE("a commit after stop completes with false", "[group_commit]") {
  TempDir dir;
  std::unique_ptr<cache::Store> store = open_store(dir);
  GroupCommitter committer(*store);
  committer.stop();
  asio::io_context ioc;
  std::future<bool> result =
      asio::co_spawn(ioc, commit_one(committer, "late", body_of(1)), asio::use_future);
  ioc.run_for(std::chrono::seconds(5));
  REQUIRE(result.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK_FALSE(result.get());
  CHECK(store->usage().entries == 0);
}

TEST_CASE("commits from two network threads in one batch each resume on their own thread",
          "[group_commit]") {
  TempDir dir;
  std::unique_ptr<cache::Store> store = open_store(dir);
  GroupCommitter committer(*store);
  constexpr int kPerThread = 100;
  asio::io_context first, second;
  std::atomic<int> stored{0}, elsewhere{0};
  std::thread::id first_id, second_id;
  // Resumed on the thread that runs `ioc`: the batch's completions are grouped by executor,
  // and a group posted to the wrong one would resume it on the other thread.
  auto commit_on = [&](asio::io_context& ioc, const std::thread::id& runner, int i) {
    asio::co_spawn(
        ioc,
        [&committer, &stored, &elsewhere, &runner, i]() -> asio::awaitable<void> {
          const bool ok = co_await commit_one(committer, "k" + std::to_string(i), body_of(i));
          if (ok) ++stored;
          if (std::this_thread::get_id() != runner) ++elsewhere;
        },
        asio::detached);
  };
  for (int i = 0; i < kPerThread; ++i) {
    commit_on(first, first_id, i);
    commit_on(second, second_id, kPerThread + i);
  }
  std::thread a([&] {
    first_id = std::this_thread::get_id();
    first.run();
  });
  std::thread b([&] {
    second_id = std::this_thread::get_id();
    second.run();
  });
  a.join();
  b.join();
  committer.stop();
  CHECK(stored == 2 * kPerThread);
  CHECK(elsewhere == 0);
  CHECK(store->usage().entries == 2 * kPerThread);
}
