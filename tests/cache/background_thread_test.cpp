// background_thread (cache/background_thread.hpp): storage threads carry a name and run at
// the process's nice value plus background_nice(): a thread that asks, a thread
// started by one, LevelDB's compaction thread (scheduled through pread_env) and the store's
// segment collector, found by its name.
#include "cache/background_thread.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <leveldb/env.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "cache/leveldb_store.hpp"
#include "cache/pread_env.hpp"
#include "temp_dir.hpp"

using namespace cacheproxy::cache;

namespace {

int nice_of_thread(pid_t tid) { return ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid)); }

int process_nice() { return nice_of_thread(::getpid()); }

int lowered_nice() { return std::min(process_nice() + background_nice(), 19); }

std::string thread_name(const std::filesystem::path& task) {
  std::ifstream comm(task / "comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// The id of this process's thread named `name`, waiting up to five seconds for it.
std::optional<pid_t> find_thread(const std::string& name) {
  for (int i = 0; i < 500; ++i) {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task"))
      if (thread_name(task.path()) == name)
        return static_cast<pid_t>(std::stoi(task.path().filename().string()));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

// The nice value of thread tid once it has set it (it names itself first).
int settled_nice(pid_t tid) {
  for (int i = 0; i < 500 && nice_of_thread(tid) != lowered_nice(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return nice_of_thread(tid);
}

}  // namespace

TEST_CASE("a background thread is named and runs background_nice() below the process") {
  int before = 0, after = 0, again = 0, child = 0;
  std::string name;
  std::thread([&] {
    before = nice_of_thread(::gettid());
    become_background_thread("cp-test-a-long-name");
    after = nice_of_thread(::gettid());
    name = thread_name("/proc/thread-self");
    become_background_thread("cp-test");
    again = nice_of_thread(::gettid());
    // A thread it starts inherits the lowered value; lowering that one goes no further.
    std::thread([&] {
      become_background_thread("cp-test-child");
      child = nice_of_thread(::gettid());
    }).join();
  }).join();
  CHECK(before == process_nice());
  CHECK(after == lowered_nice());
  CHECK(name == "cp-test-a-long-");  // the kernel keeps 15 characters
  CHECK(again == lowered_nice());
  CHECK(child == lowered_nice());
  // The calling (main) thread is untouched.
  CHECK(nice_of_thread(::gettid()) == process_nice());
}

TEST_CASE("work LevelDB schedules through pread_env runs in a background thread") {
  struct Seen {
    std::atomic<int> nice{-100};
    std::atomic<bool> done{false};
  } seen;
  pread_env()->Schedule(
      [](void* arg) {
        auto* s = static_cast<Seen*>(arg);
        s->nice = nice_of_thread(::gettid());
        s->done = true;
      },
      &seen);
  for (int i = 0; i < 500 && !seen.done; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(seen.done);
  CHECK(seen.nice == lowered_nice());
  CHECK(find_thread("cp-leveldb"));
}

TEST_CASE("an open LevelDB store's segment collector is a background thread") {
  testing::TempDir dir;
  LevelDbStoreOptions options;
  options.directory = dir.path();
  options.budget_bytes = 1 << 20;
  options.block_cache_bytes = 1 << 20;
  std::string error;
  std::unique_ptr<Store> store = open_leveldb_store(options, &error);
  INFO(error);
  REQUIRE(store);
  const std::optional<pid_t> collector = find_thread("cp-seg-collect");
  REQUIRE(collector);
  CHECK(settled_nice(*collector) == lowered_nice());
  store.reset();
}

TEST_CASE("set_background_nice sets the increment for threads lowered from then on, 0-19") {
  REQUIRE(background_nice() == kDefaultBackgroundNice);
  set_background_nice(2);
  int seen = 0;
  std::thread([&] {
    become_background_thread("cp-test-two");
    seen = nice_of_thread(::gettid());
  }).join();
  CHECK(seen == std::min(process_nice() + 2, 19));
  set_background_nice(30);
  CHECK(background_nice() == 19);
  set_background_nice(-3);
  CHECK(background_nice() == 0);
  std::thread([&] {
    become_background_thread("cp-test-zero");
    seen = nice_of_thread(::gettid());
  }).join();
  CHECK(seen == process_nice());  // 0: storage at the network threads' priority
  set_background_nice(kDefaultBackgroundNice);
}
