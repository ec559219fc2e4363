// The binary's threads as an admin sees them in `top -H`: network threads named cp-net at the
// process's priority, storage threads named and storage_nice below it.
#include <sys/resource.h>

#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "support/proxy_process.hpp"
#include "support/test_proxy.hpp"

using namespace cacheproxy::testing;

namespace {

// The nice value of the thread of process pid named `name`, once there is one (up to 10 s).
std::optional<int> nice_of_thread_named(pid_t pid, const std::string& name) {
  const std::filesystem::path tasks = fmt::format("/proc/{}/task", pid);
  for (int i = 0; i < 1000; ++i) {
    for (const auto& task : std::filesystem::directory_iterator(tasks)) {
      std::ifstream comm(task.path() / "comm");
      std::string comm_name;
      std::getline(comm, comm_name);
      if (comm_name != name) continue;
      const auto tid = static_cast<id_t>(std::stoi(task.path().filename().string()));
      return ::getpriority(PRIO_PROCESS, tid);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("the binary's storage threads run storage_nice below its network threads",
          "[binary]") {
  TempDir dir;
  const std::uint16_t port = free_port();
  const auto file = dir.path() / "cacheproxy.conf";
  std::ofstream(file) << fmt::format(
      "listen = 127.0.0.1:{}\ncache_dir = {}\naccess_log = {}\nthreads = 1\nstorage_nice = 3\n",
      port, (dir.path() / "cache").string(), (dir.path() / "access.log").string());
  ProxyProcess proxy(file, dir.path(), port);
  const int process_nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(proxy.pid()));
  // Under a process already at nice 17 or more, the storage threads stop at 19.
  const int storage_nice = std::min(process_nice + 3, 19);
  CHECK(nice_of_thread_named(proxy.pid(), "cp-net") == process_nice);
  for (const char* storage : {"cp-commit", "cp-seg-collect", "cp-access-log"}) {
    INFO(storage);
    std::optional<int> nice;
    // A thread names itself, then lowers itself: give it the moment in between.
    for (int i = 0; i < 100 && nice != storage_nice; ++i) {
      nice = nice_of_thread_named(proxy.pid(), storage);
      if (nice != storage_nice) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(nice == storage_nice);
  }
}
