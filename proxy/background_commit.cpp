#include "proxy/background_commit.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "cache/cached_object.hpp"
#include "proxy/in_flight.hpp"
#include "proxy/offload.hpp"

namespace cacheproxy {

namespace asio = boost::asio;

namespace {

struct Job {
  Services services;
  BackgroundCommit commit;
};

asio::awaitable<void> commit_entry(std::unique_ptr<Job> job) {
  InFlight in_flight(job->services.in_flight);
  BackgroundCommit& c = job->commit;
  if (co_await c.fill->commit(std::move(c.meta))) {
    // A replaced entry must not be served from memory any longer.
    job->services.memory.erase(c.store_key);
    if (c.new_marker) co_await store_vary_marker(job->services, c.url_key, *c.new_marker);
  }
  // Requests waiting for this fetch can now find the entry.
  c.lease.reset();
}

}  // namespace

std::optional<BackgroundCommitRoom> BackgroundCommitRoom::reserve(SharedState& shared,
                                                                  std::uint64_t body_bytes) {
  const std::uint64_t wanted = body_bytes + kBackgroundCommitOverhead;
  std::atomic<std::uint64_t>& held = shared.background_commit_bytes;
  std::uint64_t now = held.load(std::memory_order_relaxed);
  do {
    if (now + wanted > kBackgroundCommitBytes) return std::nullopt;
  } while (!held.compare_exchange_weak(now, now + wanted, std::memory_order_relaxed));
  return BackgroundCommitRoom(&held, wanted);
}

void start_background_commit(const Services& services, const asio::any_io_executor& executor,
                             BackgroundCommit commit) {
  auto job = std::make_unique<Job>(Job{services, std::move(commit)});
  asio::co_spawn(executor, commit_entry(std::move(job)), asio::detached);
}

asio::awaitable<bool> store_vary_marker(Services& services, const std::string& url_key,
                                        const cache::EntryMeta& marker) {
  auto& store = services.store;
  bool stored = co_await run_blocking(services.store_pool, [&store, &url_key, &marker] {
    std::unique_ptr<cache::Insert> insert = store.begin_insert(url_key);
    return insert && insert->commit(marker);
  });
  if (stored) services.memory.put(url_key, cache::make_cached_object(marker, {}));
  co_return stored;
}

}  // namespace cacheproxy
