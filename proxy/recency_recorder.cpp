#include "proxy/recency_recorder.hpp"

namespace cacheproxy {

RecencyRecorder::RecencyRecorder(cache::Store& store, boost::asio::thread_pool& pool)
    : store_(store), timer_(pool) {}

void RecencyRecorder::record(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  if (auto it = waiting_.find(key); it != waiting_.end()) {
    ++it->second;
  } else {
    waiting_.emplace(key, 1);
  }
  if (armed_) return;
  armed_ = true;
  timer_.expires_after(kDelay);
  timer_.async_wait([this](const boost::system::error_code&) { drain(); });
}

void RecencyRecorder::drain() {
  KeySet batch;
  {
    std::lock_guard lock(mutex_);
    armed_ = false;
    if (closed_) return;
    batch.swap(waiting_);
  }
  for (const auto& [key, uses] : batch) store_.touch(key, uses);
}

void RecencyRecorder::close() {
  KeySet batch;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    batch.swap(waiting_);
    if (armed_) timer_.cancel();
  }
  for (const auto& [key, uses] : batch) store_.touch(key, uses);
}

}  // namespace cacheproxy
