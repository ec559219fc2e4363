// The running proxy: the cache tiers, one io_context per network thread (each with its own
// listening sockets sharing the port through SO_REUSEPORT, and its own origin pool), and the
// store's worker threads. main() and the integration tests both drive it through this class.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proxy/config.hpp"
#include "proxy/services.hpp"

namespace cacheproxy {

class Server {
 public:
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Opens the cache, binds every listen address and starts the threads. Returns an error
  // message, or an empty string on success.
  std::string start();

  // The ports actually bound, one per listen address (useful when a port was 0).
  std::vector<std::uint16_t> ports() const { return ports_; }

  // Stops accepting, lets in-flight requests finish (at most shutdown_timeout), stops the
  // threads and closes the store. Safe to call more than once.
  void stop();

  // The config the server started with (listen, cache_dir, threads stay as they are here).
  const Config& config() const { return config_; }
  // The config in force now: the started one, or the last one reload() installed.
  std::shared_ptr<const Config> live_config() const;

  // Installs `loaded` for new connections and requests: access rules, limits, timeouts,
  // freshness rules, cache budgets, the access log path... Settings that only apply at start
  // keep their running value. Returns one log line per notable outcome (a setting needing a
  // restart, a log that could not be opened).
  std::vector<std::string> reload(Config loaded);

  // Reopens the access log under its configured path, after logrotate renamed it (SIGUSR1).
  // Returns an error message, empty on success.
  std::string reopen_logs();

  // The counters; still readable after stop().
  const Stats& stats() const { return stats_; }
  Services& services() { return *services_; }

 private:
  struct NetworkThread;

  Config config_;
  std::unique_ptr<cache::Store> store_;
  std::unique_ptr<cache::MemoryTier> memory_;
  std::unique_ptr<boost::asio::thread_pool> store_pool_;
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<RecencyRecorder> recency_;
  Stats stats_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<SharedState> shared_;
  std::unique_ptr<Services> services_;
  std::vector<std::unique_ptr<NetworkThread>> threads_;
  std::vector<std::uint16_t> ports_;
  bool running_ = false;
};

}  // namespace cacheproxy
