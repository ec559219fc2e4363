// Recent traffic for the live statistics page: the cumulative counters sampled every
// kTrafficSamplePeriod, the last hour of samples kept in a ring, and the hit ratios and request
// rate over a window (now, 5 min, 60 min) computed as the difference between the current
// counters and the sample that far back.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "proxy/stats.hpp"

namespace cacheproxy {

inline constexpr std::chrono::seconds kTrafficSamplePeriod{10};
inline constexpr std::size_t kTrafficSamples = 360;  // one hour of samples

// The cumulative counters at one moment.
struct TrafficSample {
  std::chrono::system_clock::time_point time;
  std::uint64_t requests = 0;
  std::uint64_t memory_hits = 0;
  std::uint64_t disk_hits = 0;
  std::uint64_t refresh_unmodified = 0;  // revalidated, 304
  std::uint64_t refresh_modified = 0;
  std::uint64_t misses = 0;
  std::uint64_t errors = 0;
  std::uint64_t bytes_from_cache = 0;
  std::uint64_t bytes_from_origin = 0;

  static TrafficSample of(const StatsSnapshot& s, std::chrono::system_clock::time_point time);
  std::uint64_t hits() const { return memory_hits + disk_hits + refresh_unmodified; }
};

// What happened between two samples.
struct TrafficWindow {
  double seconds = 0;
  std::uint64_t requests = 0;
  std::uint64_t hits = 0;
  std::uint64_t lookups = 0;  // hits + misses + refresh_modified, as StatsSnapshot counts them
  std::uint64_t bytes_from_cache = 0;
  std::uint64_t bytes_from_origin = 0;

  double request_hit_ratio() const;
  double byte_hit_ratio() const;
  double requests_per_second() const;
};

// Pure: the difference `later - earlier`.
TrafficWindow traffic_between(const TrafficSample& earlier, const TrafficSample& later);

class TrafficHistory {
 public:
  // Appends a sample (the oldest beyond kTrafficSamples is dropped).
  void record(const TrafficSample& sample);
  // The samples, oldest first.
  std::vector<TrafficSample> samples() const;
  // Traffic from the newest sample at least `span` older than `now` (or the oldest sample, if
  // the history is shorter) up to `now`. All zero if there is no sample.
  TrafficWindow window(const TrafficSample& now, std::chrono::seconds span) const;

 private:
  mutable std::mutex mutex_;
  std::deque<TrafficSample> samples_;
};

}  // namespace cacheproxy
