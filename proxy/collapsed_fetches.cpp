#include "proxy/collapsed_fetches.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cacheproxy {

namespace asio = boost::asio;

// One waiting request: its timer lives on the waiter's own thread, and the leader wakes it by
// posting a cancel there, so the timer is only ever touched from that thread.
struct CollapsedFetches::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
};

void CollapsedFetches::Lease::release() {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->finish(*key_);
}

std::optional<CollapsedFetches::Lease> CollapsedFetches::try_lead(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = groups_.try_emplace(key);
  if (!inserted) return std::nullopt;
  return Lease(this, &it->first);
}

asio::awaitable<bool> CollapsedFetches::wait(const std::string& key,
                                             std::chrono::milliseconds timeout) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::shared_ptr<Waiter> waiter;
  {
    std::lock_guard lock(mutex_);
    auto it = groups_.find(key);
    if (it == groups_.end()) co_return false;
    waiter = std::make_shared<Waiter>(executor);
    it->second.push_back(waiter);
  }
  // The leader's cancel is posted to this thread, so it cannot run before this wait starts.
  waiter->timer.expires_after(timeout);
  co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return true;
}

// key may be the map's own copy (a Lease's): it is not used after the erase.
void CollapsedFetches::finish(const std::string& key) {
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mutex_);
    auto it = groups_.find(key);
    if (it == groups_.end()) return;
    waiters = std::move(it->second);
    groups_.erase(it);
  }
  for (const auto& waiter : waiters) {
    asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
  }
}

}  // namespace cacheproxy
