// Counts work that graceful shutdown waits for (Services::in_flight): a client's request, a
// background revalidation, an entry still being committed after its client was answered.
#pragma once

#include <atomic>

namespace cacheproxy {

// Keeps the count right on every path out of the work it guards.
class InFlight {
 public:
  explicit InFlight(std::atomic<int>& count) : count_(count) { ++count_; }
  ~InFlight() { --count_; }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::atomic<int>& count_;
};

}  // namespace cacheproxy
