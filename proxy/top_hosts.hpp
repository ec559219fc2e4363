// The busiest hosts by requests and by bytes served from the cache, in bounded memory: the
// space-saving algorithm (Metwally, Agrawal, El Abbadi, "Efficient Computation of Frequent and
// Top-k Elements in Data Streams", 2005). It keeps `capacity` counters; a host not among them
// takes over the smallest counter, inheriting its count as its possible overestimate. Any host
// whose true total exceeds (sum of all weights) / capacity is guaranteed to be kept.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/stats.hpp"

namespace cacheproxy {

class SpaceSaving {
 public:
  struct Entry {
    std::string key;
    std::uint64_t count = 0;  // an upper bound of the true total
    std::uint64_t error = 0;  // how much of count may belong to keys it replaced
  };

  explicit SpaceSaving(std::size_t capacity) : capacity_(capacity) {}

  void add(std::string_view key, std::uint64_t weight);
  // The `n` largest counters, largest first.
  std::vector<Entry> top(std::size_t n) const;

 private:
  std::size_t capacity_;
  std::vector<Entry> entries_;  // a small vector: a linear scan beats a map at this size
};

class TopHosts {
 public:
  static constexpr std::size_t kTracked = 64;         // counters per ranking
  static constexpr std::size_t kMaxHostLength = 255;  // RFC 1035 §2.3.4: a name's length

  struct Row {
    std::string host;
    std::uint64_t requests = 0;
    std::uint64_t bytes_saved = 0;
  };

  // One finished request to `host`, as logged: requests that reached a cache decision or a
  // tunnel count; the bytes sent for a hit count as saved. Others (denied, errors) do not.
  void record(std::string_view host, ResultCode code, std::uint64_t bytes_sent);
  std::vector<Row> by_requests(std::size_t n) const;
  std::vector<Row> by_bytes_saved(std::size_t n) const;

 private:
  mutable std::mutex mutex_;
  SpaceSaving requests_{kTracked};
  SpaceSaving bytes_saved_{kTracked};
};

// The host of an absolute URL ("http://Host:8080/x" -> "host") or of a CONNECT authority
// ("host:443" -> "host"), lower-cased; empty if `target` is neither.
std::string host_of_target(std::string_view target);
// The same name from a host already parsed out of its target (an IPv6 literal without its
// brackets, as RequestTarget keeps it): what host_of_target gives for that target.
std::string host_key(std::string_view host);

}  // namespace cacheproxy
