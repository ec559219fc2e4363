#include "proxy/cache_fill.hpp"

#include "cache/crc32c.hpp"
#include "proxy/offload.hpp"

namespace cacheproxy {

namespace {
// Body bytes gathered before one store append, so LevelDB sees few large writes.
constexpr std::size_t kFlushBytes = 256 * 1024;
}  // namespace

CacheFill::CacheFill(cache::Store& store, boost::asio::thread_pool& pool,
                     GroupCommitter& committer, Stats& stats, std::string key,
                     std::uint64_t max_bytes)
    : store_(store),
      pool_(pool),
      committer_(committer),
      stats_(stats),
      key_(std::move(key)),
      max_bytes_(max_bytes) {}

CacheFill::~CacheFill() {
  // Neither committed nor abandoned (the exchange was torn down, e.g. at shutdown): the
  // Insert's own destructor discards it, touching LevelDB here in this rare case only.
  if (active_) stats_.count_store_abort();
}

boost::asio::awaitable<void> CacheFill::append(const char* data, std::size_t size) {
  if (!active_) co_return;
  if (in_place_) {  // the body is being read in place: bytes from elsewhere are not part of it
    co_await abandon();
    co_return;
  }
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

std::span<char> CacheFill::in_place_buffer(std::uint64_t length) {
  if (!active_ || total_ > 0 || in_place_ || length > kFlushBytes || length > max_bytes_)
    return {};
  in_place_size_ = static_cast<std::size_t>(length);
  in_place_ = std::make_unique_for_overwrite<char[]>(in_place_size_);
  return std::span<char>(in_place_.get(), in_place_size_);
}

void CacheFill::appended_in_place(std::size_t size) {
  // The bytes were just read and are still in this CPU's cache, unlike when the commit runs.
  in_place_crc_ = cache::crc32c(std::string_view(in_place_.get() + total_, size), in_place_crc_);
  total_ += size;
}

boost::asio::awaitable<bool> CacheFill::commit(cache::EntryMeta meta) {
  if (!active_) co_return false;
  active_ = false;
  // An in-place body must have filled its buffer exactly: anything else is not the body.
  if (in_place_ && total_ != in_place_size_) {
    stats_.count_store_abort();
    co_return false;
  }
  meta.body_size = total_;
  const std::string_view rest =
      in_place_ ? std::string_view(in_place_.get(), in_place_size_) : std::string_view(pending_);
  const auto rest_crc = in_place_ ? std::optional<std::uint32_t>(in_place_crc_) : std::nullopt;
  bool committed = co_await committer_.commit(insert_, key_, std::move(meta), rest, rest_crc);
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
  stats_.count_store_abort();
  co_await discard();
}

boost::asio::awaitable<void> CacheFill::skip() {
  if (!active_) co_return;
  stats_.count_store_skipped();
  co_await discard();
}

boost::asio::awaitable<void> CacheFill::discard() {
  active_ = false;
  pending_.clear();
  if (!insert_) co_return;
  co_await run_blocking(pool_, [this] {
    insert_->abort();
    insert_.reset();
    return true;
  });
}

}  // namespace cacheproxy
