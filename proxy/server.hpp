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

  const Config& config() const { return config_; }
  // The counters; still readable after stop().
  const Stats& stats() const { return stats_; }
  Services& services() { return *services_; }

 private:
  struct NetworkThread;

  Config config_;
  std::unique_ptr<cache::Store> store_;
  std::unique_ptr<cache::MemoryTier> memory_;
  std::unique_ptr<boost::asio::thread_pool> store_pool_;
  std::unique_ptr<AccessLog> access_log_;
  Stats stats_;
  std::unique_ptr<Authenticator> authenticator_;
  std::unique_ptr<Services> services_;
  std::vector<std::unique_ptr<NetworkThread>> threads_;
  std::vector<std::uint16_t> ports_;
  bool running_ = false;
};

}  // namespace cacheproxy
