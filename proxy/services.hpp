// What every session shares: the config, the cache tiers, counters and logs.
//
// The Server owns one Services for the process, bound to the config it started with. Each
// client session works with its own copy made by current(): the same shared objects, with the
// config in force when its connection began, so one connection sees one consistent config
// even when SIGHUP installs a new one halfway through.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <memory>

#include "cache/memory_tier.hpp"
#include "cache/policy.hpp"
#include "cache/store.hpp"
#include "proxy/access_log.hpp"
#include "proxy/authenticator.hpp"
#include "proxy/collapsed_fetches.hpp"
#include "proxy/config.hpp"
#include "proxy/connection_limiter.hpp"
#include "proxy/group_commit.hpp"
#include "proxy/live_config.hpp"
#include "proxy/recency_recorder.hpp"
#include "proxy/stats.hpp"
#include "proxy/top_hosts.hpp"
#include "proxy/traffic_history.hpp"

namespace cacheproxy {

// The caching policy's settings taken from a config (heuristic freshness rules).
inline cache::PolicyConfig policy_config(const Config& config) {
  cache::PolicyConfig policy;
  policy.heuristic.last_modified_factor = config.heuristic_percent / 100.0;
  policy.heuristic.max_lifetime =
      std::chrono::duration_cast<cache::Seconds>(config.heuristic_max_lifetime);
  return policy;
}

// State that lives as long as the server, whatever config is in force.
struct SharedState {
  explicit SharedState(const Config& config)
      : live_config(config),
        connections(config.max_connections, config.max_connections_per_client) {}

  LiveConfig live_config;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
  std::atomic<int> in_flight{0};  // requests being handled, for graceful shutdown
  // Bytes held by commits running after their clients were answered (background_commit).
  std::atomic<std::uint64_t> background_commit_bytes{0};
  ConnectionLimiter connections;
  CollapsedFetches collapsed;  // concurrent misses for one key share one fetch
  TrafficHistory history;      // per-10 s samples for the live page
  TopHosts top_hosts;          // busiest hosts, bounded memory
  // Proxy authentication, if auth_htpasswd is set (owned by the Server; fixed until restart).
  Authenticator* authenticator = nullptr;
  // Uses of memory-tier hits, batched for the disk tier's eviction (owned by the Server).
  RecencyRecorder* recency = nullptr;
  // Commits of new cache entries, batched on a thread of their own (owned by the Server).
  GroupCommitter* committer = nullptr;
};

struct Services {
  Services(std::shared_ptr<const Config> config_snapshot, cache::Store& store,
           cache::MemoryTier& memory, boost::asio::thread_pool& store_pool, AccessLog& access_log,
           Stats& stats, SharedState& shared)
      : snapshot(std::move(config_snapshot)),
        config(*snapshot),
        policy(policy_config(*snapshot)),
        store(store),
        memory(memory),
        store_pool(store_pool),
        access_log(access_log),
        stats(stats),
        shared(shared),
        started(shared.started),
        in_flight(shared.in_flight),
        connections(shared.connections),
        collapsed(shared.collapsed),
        authenticator(shared.authenticator) {}

  // The same services with the config in force now: what a new session works with.
  Services current() const {
    return Services(shared.live_config.get(), store, memory, store_pool, access_log, stats, shared);
  }

  std::shared_ptr<const Config> snapshot;  // keeps `config` alive
  const Config& config;
  cache::PolicyConfig policy;
  cache::Store& store;
  cache::MemoryTier& memory;
  boost::asio::thread_pool& store_pool;  // LevelDB calls run here, never on network threads
  AccessLog& access_log;
  Stats& stats;
  SharedState& shared;
  std::chrono::system_clock::time_point started;
  std::atomic<int>& in_flight;
  ConnectionLimiter& connections;
  CollapsedFetches& collapsed;
  Authenticator* authenticator;  // proxy authentication, if auth_htpasswd is set
};

}  // namespace cacheproxy
