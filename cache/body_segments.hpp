// The files that hold stored bodies' bytes. LevelDB keeps each chunk as a small pointer (a
// BodyExtent) into one of these append-only segment files instead of the bytes themselves, so
// a cached byte is written once, not once to LevelDB's log and again at every level of its
// compactions (WiscKey's separation of keys from values). The store decides which extents are
// live; this class only appends, reads and deletes whole segments.
//
// Segments are numbered; one is active (appends go to its end) and the rest are sealed and
// never written again. A sealed segment goes when the store has copied its live extents
// elsewhere (LevelDbStore's segment collector), or when nothing points into it.
//
// Appends are gathered in an aligned write buffer of kWriteBufferBytes and written a whole
// buffer at a time with O_DIRECT by a writer thread of its own, so an append (a store's
// commit, which a client may be waiting on) never waits for the disk unless the disk is
// 16 MiB behind. Traffic Server writes its cache the same way (an aggregation buffer that its
// disk threads write whole): the bytes go from a few reused buffers to the disk instead of
// being copied into fresh page-cache pages, which most of them would only occupy (most
// cached objects are never asked for again). Reads go through the page cache (a second
// descriptor), so objects that are asked for again are cached by the kernel as before.
// Extents still in a buffer, filling or queued, are read from it. A crash loses the buffers
// not yet written: the pointers into them then fail their checks, and those entries are
// erased when read, never served.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cacheproxy::cache {

// Where one chunk's bytes are: length bytes at offset of a segment, with their CRC-32C.
struct BodyExtent {
  std::uint32_t segment = 0;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t crc = 0;
  bool operator==(const BodyExtent&) const = default;
};

inline constexpr std::size_t kBodyExtentBytes = 4 + 8 + 4 + 4;
std::string encode_body_extent(const BodyExtent& extent);
// nullopt unless value is exactly an encoded extent.
std::optional<BodyExtent> decode_body_extent(std::string_view value);

struct SegmentInfo {
  std::uint32_t number = 0;
  std::uint64_t bytes = 0;
  bool sealed = false;
  std::uint32_t unsettled = 0;  // appends whose pointers are not yet written or dropped
};

class BodySegments {
 public:
  BodySegments() = default;
  ~BodySegments();
  BodySegments(const BodySegments&) = delete;
  BodySegments& operator=(const BodySegments&) = delete;

  // Opens the segments in directory (creating it), removing them all first if discard, and
  // starts a new active segment. Segments roll over at segment_bytes. No extent may be
  // larger than max_extent_bytes.
  bool open(const std::filesystem::path& directory, std::uint64_t segment_bytes,
            std::size_t max_extent_bytes, bool discard, std::string* error);
  // Writes out what the write buffer holds and waits until every buffer is on disk. Also
  // done on destruction.
  void flush();

  // Appends data at the end of the active segment. The extent is unsettled until settle():
  // while any extent of a segment is, the segment is not offered for collection (its
  // pointer may not have reached the database yet). nullopt if the write failed (then
  // nothing is unsettled). Thread-safe; concurrent appends write side by side. `crc`, when
  // given, is data's CRC-32C as the caller computed it while the bytes were fresh in its
  // cache; otherwise it is computed here.
  std::optional<BodyExtent> append(std::string_view data,
                                   std::optional<std::uint32_t> crc = std::nullopt);
  void settle(const BodyExtent& extent);

  // Reads the whole extent into *out and checks its length and CRC. False if the segment is
  // gone, short or damaged. Thread-safe.
  bool read(const BodyExtent& extent, std::string* out) const;

  // Readers that resolve extents from a database snapshot hold this while they read: a
  // segment is deleted only when no hold is taken, so an extent read from a snapshot taken
  // under the hold still points into an existing file.
  std::shared_lock<std::shared_mutex> hold() const { return std::shared_lock(retire_mutex_); }

  // Seals the active segment (if it holds anything) and starts a new one. Returns whether it
  // did.
  bool roll();
  // Deletes a sealed segment; waits for the holds taken before.
  void remove(std::uint32_t number);

  std::vector<SegmentInfo> list() const;
  std::uint64_t total_bytes() const;
  std::uint64_t segment_bytes() const { return segment_bytes_; }
  // Whether writes bypass the page cache (false where the file system refuses O_DIRECT).
  bool direct_writes() const { return direct_; }

 private:
  struct Segment;
  struct WriteBuffer;
  bool start_segment_locked(std::string* error);
  // Moves the filled part of the write buffer to the writer's queue (nothing if it is empty);
  // the next append starts a fresh buffer after it. A queued buffer stays readable until
  // written.
  void queue_buffer_locked();
  // The writer thread: writes queued buffers in order, outside the lock.
  void write_loop();
  // The write buffer holding extent, or nullptr if it is on disk.
  std::shared_ptr<WriteBuffer> buffer_holding_locked(const BodyExtent& extent) const;

  std::filesystem::path directory_;
  std::uint64_t segment_bytes_ = 0;
  mutable std::shared_mutex retire_mutex_;
  mutable std::mutex mutex_;  // guards everything below
  std::map<std::uint32_t, std::shared_ptr<Segment>> segments_;
  std::shared_ptr<Segment> active_;
  std::uint32_t next_number_ = 1;
  std::uint64_t total_bytes_ = 0;
  std::size_t buffer_bytes_ = 0;
  bool direct_ = true;
  std::shared_ptr<WriteBuffer> filling_;               // appends go here
  std::deque<std::shared_ptr<WriteBuffer>> writing_;  // full, queued for the writer, oldest first
  std::vector<std::shared_ptr<WriteBuffer>> spare_;   // written, held by no one: reused
  bool stopping_ = false;
  std::condition_variable queued_;   // writing_ gained a buffer, or stopping_
  std::condition_variable written_;  // writing_ lost one
  std::thread writer_;               // last: started when everything above exists
};

}  // namespace cacheproxy::cache
