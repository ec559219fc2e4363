#include "support/proxy_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <thread>

#include "support/test_proxy.hpp"

namespace cacheproxy::testing {

ProxyProcess::ProxyProcess(const std::filesystem::path& config, const std::filesystem::path& dir,
                           std::uint16_t port)
    : log_path_(dir / "proxy.log") {
  std::string config_path = config.string();
  std::string log_path = log_path_.string();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    std::freopen(log_path.c_str(), "w", stderr);
    ::execl(CACHEPROXY_BINARY, "cacheproxy", "--config", config_path.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    try {
      ProxyClient probe(port);
      return;
    } catch (...) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  throw std::runtime_error("cacheproxy did not start listening; its log: " + log());
}

ProxyProcess::~ProxyProcess() {
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
}

void ProxyProcess::signal(int number) const { ::kill(pid_, number); }

std::string ProxyProcess::log() const {
  std::ifstream in(log_path_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool ProxyProcess::wait_for_log(const std::string& text, int count) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    std::string all = log();
    int found = 0;
    for (std::size_t at = all.find(text); at != std::string::npos; at = all.find(text, at + 1))
      ++found;
    if (found >= count) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace cacheproxy::testing
