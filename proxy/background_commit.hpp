// Stores a fetched entry after its client has the whole response. The commit waits for the
// group committer's thread (and, behind it, for the disk); the client's connection need not:
// it goes on to its next request while a detached coroutine on the same network thread waits
// for the commit, then drops any replaced entry from the memory tier, writes a new Vary
// marker, and only then releases the collapsed-forwarding lease. A repeat request for the URL
// meanwhile waits on that lease, so it still finds the entry stored.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "cache/entry.hpp"
#include "proxy/cache_fill.hpp"
#include "proxy/collapsed_fetches.hpp"
#include "proxy/services.hpp"

namespace cacheproxy {

// What background commits may hold at once, bodies and bookkeeping. Past it the store is
// behind the disk, and a miss's entry that would be committed in the background is not
// stored (relay_reply), so a store that stalls neither piles bodies up in memory nor makes
// clients wait.
inline constexpr std::uint64_t kBackgroundCommitBytes = 4 << 20;
// Counted per commit besides its body: the coroutine, the metadata, the fill.
inline constexpr std::uint64_t kBackgroundCommitOverhead = 4096;

// Room for one background commit, taken from the allowance and given back when destroyed.
class BackgroundCommitRoom {
 public:
  // Whether a body of body_bytes fits the allowance at all (larger ones are committed while
  // their client waits, never in the background).
  static bool fits(std::uint64_t body_bytes) {
    return body_bytes + kBackgroundCommitOverhead <= kBackgroundCommitBytes;
  }
  // Room for a body of body_bytes, or nullopt if the allowance has not enough left.
  static std::optional<BackgroundCommitRoom> reserve(SharedState& shared,
                                                     std::uint64_t body_bytes);
  BackgroundCommitRoom(BackgroundCommitRoom&& other) noexcept
      : held_(std::exchange(other.held_, nullptr)), bytes_(other.bytes_) {}
  BackgroundCommitRoom(const BackgroundCommitRoom&) = delete;
  BackgroundCommitRoom& operator=(const BackgroundCommitRoom&) = delete;
  BackgroundCommitRoom& operator=(BackgroundCommitRoom&&) = delete;
  ~BackgroundCommitRoom() {
    if (held_ != nullptr) *held_ -= bytes_;
  }

 private:
  BackgroundCommitRoom(std::atomic<std::uint64_t>* held, std::uint64_t bytes)
      : held_(held), bytes_(bytes) {}
  std::atomic<std::uint64_t>* held_;
  std::uint64_t bytes_;
};

struct BackgroundCommit {
  std::unique_ptr<CacheFill> fill;  // holds the whole body
  cache::EntryMeta meta;
  std::string store_key;  // where the entry goes: the URL key or a variant key
  // A Vary marker to store under url_key once the variant is in (RFC 9111 §4.1).
  std::optional<cache::EntryMeta> new_marker;
  std::string url_key;
  std::optional<CollapsedFetches::Lease> lease;  // released when the commit is done
  BackgroundCommitRoom room;                     // for fill->size() bytes
};

// Copies services (the session that fetched may end first); runs on executor.
void start_background_commit(const Services& services, const boost::asio::any_io_executor& executor,
                             BackgroundCommit commit);

// Stores marker under url_key, on the store's threads, and puts it in the memory tier.
// Returns whether it was stored.
boost::asio::awaitable<bool> store_vary_marker(Services& services, const std::string& url_key,
                                               const cache::EntryMeta& marker);

}  // namespace cacheproxy
