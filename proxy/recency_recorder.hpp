// Records that stored entries were used (hits served from the memory tier), for the disk
// tier's eviction policy, without a trip to the store's threads per hit.
//
// A hot object can be hit tens of thousands of times a second; posting each use to the store
// pool would wake one of its threads every time. Uses are gathered instead, counted per key,
// and handed to the store in one batch at most kDelay after the first of them. The policy
// loses nothing it needs: every use still counts (GDSF ranks by frequency), and recency
// within one batch is the same for eviction's purposes.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <cstdint>
#include <unordered_map>

#include "cache/store.hpp"

namespace cacheproxy {

class RecencyRecorder {
 public:
  static constexpr std::chrono::milliseconds kDelay{200};

  RecencyRecorder(cache::Store& store, boost::asio::thread_pool& pool);
  RecencyRecorder(const RecencyRecorder&) = delete;
  RecencyRecorder& operator=(const RecencyRecorder&) = delete;

  // Any thread. Cheap when the key is already waiting: a lookup and an increment under a lock.
  void record(std::string_view key);
  // Hands every waiting key to the store now and drops later records; call once the network
  // threads have stopped and before the pool is joined.
  void close();

 private:
  // Runs on the pool when the batch's delay is up.
  void drain();

  // Lets a string_view find a waiting key without building a std::string per hit.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  // Key -> uses since the last batch.
  using KeySet = std::unordered_map<std::string, std::uint32_t, KeyHash, std::equal_to<>>;

  cache::Store& store_;
  std::mutex mutex_;
  KeySet waiting_;                           // guarded by mutex_
  bool armed_ = false;                       // guarded by mutex_: timer_ is waiting
  bool closed_ = false;                      // guarded by mutex_
  boost::asio::steady_timer timer_;          // armed only under mutex_
};

}  // namespace cacheproxy
