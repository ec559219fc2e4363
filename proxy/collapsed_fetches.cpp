#include "proxy/collapsed_fetches.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cacheproxy {

namespace asio = boost::asio;

namespace {
// One waiting request: its timer lives on the waiter's own thread, and the leader wakes it by
// posting a cancel there, so the timer is only ever touched from that thread.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
};
}  // namespace

struct CollapsedFetches::Group {
  std::vector<std::shared_ptr<Waiter>> waiters;
};

void CollapsedFetches::Lease::release() {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->finish(key_);
}

std::optional<CollapsedFetches::Lease> CollapsedFetches::try_lead(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = groups_.try_emplace(key, nullptr);
  if (!inserted) return std::nullopt;
  it->second = std::make_shared<Group>();
  return Lease(this, key);
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
    it->second->waiters.push_back(waiter);
  }
  // The leader's cancel is posted to this thread, so it cannot run before this wait starts.
  waiter->timer.expires_after(timeout);
  co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return true;
}

void CollapsedFetches::finish(const std::string& key) {
  std::shared_ptr<Group> group;
  {
    std::lock_guard lock(mutex_);
    auto it = groups_.find(key);
    if (it == groups_.end()) return;
    group = std::move(it->second);
    groups_.erase(it);
  }
  for (const auto& waiter : group->waiters) {
    asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
  }
}

}  // namespace cacheproxy
