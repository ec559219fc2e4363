#include "proxy/cache_fill.hpp"

#include "proxy/offload.hpp"

namespace cacheproxy {

namespace {
// Body bytes gathered before one store append, so LevelDB sees few large writes.
constexpr std::size_t kFlushBytes = 256 * 1024;
}  // namespace

CacheFill::CacheFill(cache::Store& store, boost::asio::thread_pool& pool, Stats& stats,
                     std::string key, std::uint64_t max_bytes)
    : store_(store), pool_(pool), stats_(stats), key_(std::move(key)), max_bytes_(max_bytes) {}

CacheFill::~CacheFill() {
  // Neither committed nor abandoned (the exchange was torn down, e.g. at shutdown): the
  // Insert's own destructor discards it, touching LevelDB here in this rare case only.
  if (active_) stats_.count_store_abort();
}

boost::asio::awaitable<void> CacheFill::append(const char* data, std::size_t size) {
  if (!active_) co_return;
  total_ += size;
  if (total_ > max_bytes_) {
    co_await abandon();
    co_return;
  }
  pending_.append(data, size);
  if (pending_.size() < kFlushBytes) co_return;
  bool ok = co_await run_blocking(pool_, [this] {
    if (!insert_) insert_ = store_.begin_insert(key_);
    return insert_->append(pending_);
  });
  pending_.clear();
  if (!ok) co_await abandon();
}

boost::asio::awaitable<bool> CacheFill::commit(cache::EntryMeta meta) {
  if (!active_) co_return false;
  active_ = false;
  meta.body_size = total_;
  bool committed = co_await run_blocking(pool_, [this, &meta] {
    if (!insert_) insert_ = store_.begin_insert(key_);
    if (!pending_.empty() && !insert_->append(pending_)) return false;
    bool ok = insert_->commit(std::move(meta));
    insert_.reset();
    return ok;
  });
  pending_.clear();
  if (committed) {
    stats_.count_store();
  } else {
    stats_.count_store_abort();
  }
  co_return committed;
}

boost::asio::awaitable<void> CacheFill::abandon() {
  if (!active_) co_return;
  active_ = false;
  pending_.clear();
  stats_.count_store_abort();
  if (!insert_) co_return;
  co_await run_blocking(pool_, [this] {
    insert_->abort();
    insert_.reset();
    return true;
  });
}

}  // namespace cacheproxy
