// Commits cache entries on a thread of its own, many at a time: each commit the network
// threads ask for joins a queue, and the thread, once woken, gathers for up to a millisecond
// and takes everything queued into one Store::commit_all (one LevelDB write for the lot).
// Under load that is one wake-up of this thread, and one database write, per batch rather
// than per miss, where a trip to the store pool for each commit cost two thread switches and
// a write each.
//
// The awaiting coroutine resumes on its own executor with the result; the commits of a batch
// that wait on one executor resume there in one posted function, in the order they came.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cache/entry.hpp"
#include "cache/store.hpp"

namespace cacheproxy {

class GroupCommitter {
 public:
  explicit GroupCommitter(cache::Store& store);
  // Commits what is queued, then stops.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Commits *insert (begun here under key when null) with meta and the body's last bytes,
  // which must stay valid until this completes, and their CRC-32C when the caller has it
  // (cache::PendingCommit). Returns whether the entry was stored.
  boost::asio::awaitable<bool> commit(std::unique_ptr<cache::Insert>& insert,
                                      const std::string& key, cache::EntryMeta meta,
                                      std::string_view last_bytes,
                                      std::optional<std::uint32_t> last_bytes_crc);

  // Commits what is queued and joins the thread. Completions go to their executors, which
  // must outlive this call (as for the store pool). A commit asked for afterwards completes
  // with false.
  void stop();

 private:
  struct Job {
    std::unique_ptr<cache::Insert>* insert;
    const std::string* key;
    cache::EntryMeta meta;
    std::string_view last_bytes;
    std::optional<std::uint32_t> last_bytes_crc;
    // Where the waiting coroutine resumes; holds outstanding work on it until then.
    boost::asio::any_io_executor executor;
    boost::asio::any_completion_handler<void(bool)> done;
  };
  // The commits of one batch whose coroutines resume on one executor, with their results.
  struct Resumption {
    boost::asio::any_io_executor executor;
    std::vector<std::pair<boost::asio::any_completion_handler<void(bool)>, bool>> waiting;
  };
  void enqueue(Job job);
  void run();

  cache::Store& store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job> queue_;  // guarded by mutex_
  bool idle_ = false;       // the thread waits on wake_ for a first job (guarded by mutex_)
  bool gathering_ = false;  // the thread waits on wake_ for more jobs (guarded by mutex_)
  bool stopping_ = false;   // guarded by mutex_
  std::thread thread_;      // last: started when everything above exists
};

}  // namespace cacheproxy
