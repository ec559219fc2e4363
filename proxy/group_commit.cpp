#include "proxy/group_commit.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <algorithm>
#include <chrono>
#include <utility>

#include "cache/background_thread.hpp"

namespace cacheproxy {

namespace asio = boost::asio;

namespace {
// A woken committer waits this long for more commits before writing, unless kBatchTarget are
// queued first. Under load that makes one write, one wake-up and one round of thread switches
// per handful of misses instead of per miss; the clients of misses are not kept waiting by it
// (background_commit), only requests for the same URLs, for at most this long.
constexpr auto kGatherTime = std::chrono::milliseconds(1);
constexpr std::size_t kBatchTarget = 64;
}  // namespace

GroupCommitter::GroupCommitter(cache::Store& store) : store_(store), thread_([this] { run(); }) {}

GroupCommitter::~GroupCommitter() { stop(); }

void GroupCommitter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<bool> GroupCommitter::commit(std::unique_ptr<cache::Insert>& insert,
                                             const std::string& key, cache::EntryMeta meta,
                                             std::string_view last_bytes,
                                             std::optional<std::uint32_t> last_bytes_crc) {
  auto initiate = [this, &insert, &key, &meta, last_bytes, last_bytes_crc](auto handler) {
    asio::any_io_executor executor = asio::prefer(
        asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
    enqueue(Job{&insert, &key, std::move(meta), last_bytes, last_bytes_crc,
                std::move(executor), std::move(handler)});
  };
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(bool)>(
      initiate, asio::use_awaitable);
}

void GroupCommitter::enqueue(Job job) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      // No thread will take it: nothing is stored, and the exchange goes on.
      asio::post(job.executor, [done = std::move(job.done)]() mutable { std::move(done)(false); });
      return;
    }
    queue_.push_back(std::move(job));
    // Only a waiting thread needs the (system call) wake-up; a busy one finds the job when
    // it takes the next batch, and a gathering one is woken when the batch is full.
    wake = idle_ || (gathering_ && queue_.size() == kBatchTarget);
    idle_ = false;
  }
  if (wake) wake_.notify_one();
}

void GroupCommitter::run() {
  cache::become_background_thread("cp-commit");
  std::vector<Job> batch;
  std::vector<cache::PendingCommit> commits;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      while (queue_.empty() && !stopping_) {
        idle_ = true;
        wake_.wait(lock);
      }
      idle_ = false;
      if (queue_.size() < kBatchTarget && !stopping_) {
        gathering_ = true;
        wake_.wait_for(lock, kGatherTime,
                       [this] { return queue_.size() >= kBatchTarget || stopping_; });
        gathering_ = false;
      }
      if (queue_.empty() && stopping_) return;
      batch.swap(queue_);
    }
    commits.clear();
    for (Job& job : batch) {
      if (!*job.insert) *job.insert = store_.begin_insert(*job.key);
      commits.push_back(cache::PendingCommit{job.insert->get(), std::move(job.meta),
                                             job.last_bytes, job.last_bytes_crc});
    }
    store_.commit_all(commits);
    // One post per executor (a network thread) for the whole batch, not one per commit:
    // each post from this thread allocates, and takes the scheduler's lock.
    std::vector<Resumption> resumptions;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      Job& job = batch[i];
      job.insert->reset();  // spent either way: its destruction touches no database
      auto same = std::find_if(resumptions.begin(), resumptions.end(),
                               [&](const Resumption& r) { return r.executor == job.executor; });
      if (same == resumptions.end())
        same = resumptions.insert(resumptions.end(), Resumption{std::move(job.executor), {}});
      same->waiting.emplace_back(std::move(job.done), commits[i].committed);
    }
    batch.clear();
    for (Resumption& r : resumptions) {
      const asio::any_io_executor executor = r.executor;
      asio::post(executor, [waiting = std::move(r.waiting)]() mutable {
        for (auto& [done, ok] : waiting) std::move(done)(ok);
      });
    }
  }
}

}  // namespace cacheproxy
