// Collapsed forwarding (Squid's collapsed_forwarding): concurrent misses for one cache key
// make one origin request. The first becomes the leader and fetches; the others wait until
// the leader has stored the response (or given up), then look in the cache again. Shared by
// all network threads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cacheproxy {

class CollapsedFetches {
 public:
  struct Waiter;

  // Held by the leader while it fetches; releasing it (or destroying it) wakes the waiters.
  class Lease {
   public:
    Lease(CollapsedFetches* owner, const std::string* key) : owner_(owner), key_(key) {}
    Lease(Lease&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), key_(other.key_) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() { release(); }
    void release();

   private:
    CollapsedFetches* owner_;
    // The key in the owner's map, not a copy: its node stays put until release() erases it.
    const std::string* key_;
  };

  // A lease if nobody is fetching key now; nullopt if somebody is (then wait()).
  std::optional<Lease> try_lead(const std::string& key);

  // Returns when the current leader for key releases its lease, or after `timeout`, or at
  // once if there is no leader. Returns whether there was a leader to wait for.
  boost::asio::awaitable<bool> wait(const std::string& key, std::chrono::milliseconds timeout);

 private:
  void finish(const std::string& key);

  std::mutex mutex_;
  // The requests waiting for each key's leader.
  std::unordered_map<std::string, std::vector<std::shared_ptr<Waiter>>> groups_;
};

}  // namespace cacheproxy
