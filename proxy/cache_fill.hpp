// Tees a response body into a new cache entry while it streams to the client: gathers bytes
// into large appends, gives up past maximum_object_size or on any store error, and commits
// the entry atomically once the whole body is in. Every store call runs on the store's
// threads; the commit on the group committer's, batched with other exchanges' commits.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <span>
#include <string>

#include "cache/entry.hpp"
#include "cache/store.hpp"
#include "proxy/group_commit.hpp"
#include "proxy/stats.hpp"

namespace cacheproxy {

class CacheFill {
 public:
  CacheFill(cache::Store& store, boost::asio::thread_pool& pool, GroupCommitter& committer,
            Stats& stats, std::string key, std::uint64_t max_bytes);
  ~CacheFill();
  CacheFill(const CacheFill&) = delete;
  CacheFill& operator=(const CacheFill&) = delete;

  // False once the fill was given up or committed: the body is then only relayed.
  bool active() const { return active_; }
  // Body bytes appended so far.
  std::uint64_t size() const { return total_; }

  // Adds body bytes. Gives up (quietly) if the body grows past max_bytes or the store fails.
  boost::asio::awaitable<void> append(const char* data, std::size_t size);
  // For a body of known length that can go to the store in one write: the fill's own buffer
  // of exactly that length, so the body can be read from the origin straight into it (and
  // relayed to the client from it) instead of being copied in with append(). Record what was
  // read with appended_in_place(). Empty when the fill is not active, already holds bytes,
  // or the body is larger than one write. The buffer stays valid until the fill is destroyed.
  std::span<char> in_place_buffer(std::uint64_t length);
  // Counts `size` more bytes read into in_place_buffer(), after those counted before.
  void appended_in_place(std::size_t size);
  // Makes the entry visible; meta.body_size is set here from the bytes appended.
  // Returns whether the entry was stored.
  boost::asio::awaitable<bool> commit(cache::EntryMeta meta);
  // Discards what was appended: the response was incomplete or the client went away early
  // enough that the body was never fully read.
  boost::asio::awaitable<void> abandon();
  // Discards a complete body the store is too far behind to take (counted apart from
  // abandon(): nothing was wrong with the response).
  boost::asio::awaitable<void> skip();

 private:
  boost::asio::awaitable<void> discard();

  cache::Store& store_;
  boost::asio::thread_pool& pool_;
  GroupCommitter& committer_;
  Stats& stats_;
  std::string key_;
  std::uint64_t max_bytes_;
  bool active_ = true;
  std::unique_ptr<cache::Insert> insert_;  // begun on the store's threads at the first flush
  std::string pending_;                    // appended bytes not yet handed to the store
  std::uint64_t total_ = 0;
  // in_place_buffer(), when given: the whole body's length, never zeroed (every byte is read
  // into it before it is used), and kept until the fill goes (the client is relayed from it).
  std::unique_ptr<char[]> in_place_;
  std::size_t in_place_size_ = 0;
  std::uint32_t in_place_crc_ = 0;  // CRC-32C of the bytes read in place so far
};

}  // namespace cacheproxy
