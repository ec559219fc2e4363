#include "proxy/traffic_history.hpp"

namespace cacheproxy {

namespace {
double ratio(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}
}  // namespace

TrafficSample TrafficSample::of(const StatsSnapshot& s,
                                std::chrono::system_clock::time_point time) {
  TrafficSample t;
  t.time = time;
  t.requests = s.requests;
  t.memory_hits = s.memory_hits;
  t.disk_hits = s.disk_hits;
  t.refresh_unmodified = s.refresh_unmodified;
  t.refresh_modified = s.refresh_modified;
  t.misses = s.misses;
  t.errors = s.errors;
  t.bytes_from_cache = s.bytes_from_cache;
  t.bytes_from_origin = s.bytes_from_origin;
  return t;
}

double TrafficWindow::request_hit_ratio() const { return ratio(hits, lookups); }

double TrafficWindow::byte_hit_ratio() const {
  return ratio(bytes_from_cache, bytes_from_cache + bytes_from_origin);
}

double TrafficWindow::requests_per_second() const {
  return seconds <= 0 ? 0.0 : static_cast<double>(requests) / seconds;
}

TrafficWindow traffic_between(const TrafficSample& earlier, const TrafficSample& later) {
  // Counters only grow; a sample taken while another thread counted may still be a little
  // ahead in one field, so differences are clamped rather than wrapped.
  auto diff = [](std::uint64_t a, std::uint64_t b) { return b > a ? b - a : 0; };
  TrafficWindow w;
  w.seconds = std::chrono::duration<double>(later.time - earlier.time).count();
  w.requests = diff(earlier.requests, later.requests);
  w.hits = diff(earlier.hits(), later.hits());
  w.lookups = w.hits + diff(earlier.misses, later.misses) +
              diff(earlier.refresh_modified, later.refresh_modified);
  w.bytes_from_cache = diff(earlier.bytes_from_cache, later.bytes_from_cache);
  w.bytes_from_origin = diff(earlier.bytes_from_origin, later.bytes_from_origin);
  return w;
}

void TrafficHistory::record(const TrafficSample& sample) {
  std::lock_guard lock(mutex_);
  samples_.push_back(sample);
  while (samples_.size() > kTrafficSamples) samples_.pop_front();
}

std::vector<TrafficSample> TrafficHistory::samples() const {
  std::lock_guard lock(mutex_);
  return {samples_.begin(), samples_.end()};
}

TrafficWindow TrafficHistory::window(const TrafficSample& now, std::chrono::seconds span) const {
  std::lock_guard lock(mutex_);
  if (samples_.empty()) return {};
  const TrafficSample* base = &samples_.front();
  for (const TrafficSample& s : samples_) {
    if (s.time + span > now.time) break;
    base = &s;
  }
  return traffic_between(*base, now);
}

}  // namespace cacheproxy
