// What every session shares: the immutable config, the cache tiers, counters and logs.
// Owned by the Server; sessions hold references.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>

#include "cache/memory_tier.hpp"
#include "cache/policy.hpp"
#include "cache/store.hpp"
#include "proxy/access_log.hpp"
#include "proxy/authenticator.hpp"
#include "proxy/collapsed_fetches.hpp"
#include "proxy/config.hpp"
#include "proxy/connection_limiter.hpp"
#include "proxy/stats.hpp"

namespace cacheproxy {

struct Services {
  Services(const Config& config, cache::PolicyConfig policy, cache::Store& store,
           cache::MemoryTier& memory, boost::asio::thread_pool& store_pool, AccessLog& access_log,
           Stats& stats)
      : config(config),
        policy(policy),
        store(store),
        memory(memory),
        store_pool(store_pool),
        access_log(access_log),
        stats(stats) {}

  const Config& config;
  cache::PolicyConfig policy;
  cache::Store& store;
  cache::MemoryTier& memory;
  boost::asio::thread_pool& store_pool;  // LevelDB calls run here, never on network threads
  AccessLog& access_log;
  Stats& stats;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  std::atomic<int> in_flight{0};  // requests being handled, for graceful shutdown
  ConnectionLimiter connections{config.max_connections, config.max_connections_per_client};
  CollapsedFetches collapsed;  // concurrent misses for one key share one fetch
  Authenticator* authenticator = nullptr;  // proxy authentication, if auth_htpasswd is set
};

}  // namespace cacheproxy
