#include "cache/body_segments.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include "cache/background_thread.hpp"
#include "cache/crc32c.hpp"
#include "cache/leveldb_layout.hpp"

namespace cacheproxy::cache {
namespace {

constexpr std::string_view kSuffix = ".body";

std::string segment_name(std::uint32_t number) { return fmt::format("{:08}.body", number); }

// The number of a segment file name, or nullopt for any other file.
std::optional<std::uint32_t> segment_number(const std::string& name) {
  if (name.size() != 8 + kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : std::string_view(name).substr(0, 8)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n == 0 || n > 0xFFFFFFFFu) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

bool write_all(int fd, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool read_all(int fd, char* out, std::size_t size, std::uint64_t offset) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // 0: the file is shorter than the extent
    out += n;
    size -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

static_assert(kBodyExtentBytes == leveldb_layout::kChunkPointerBytes);

std::string encode_body_extent(const BodyExtent& extent) {
  using leveldb_layout::put_big_endian;
  std::string v;
  v.reserve(kBodyExtentBytes);
  put_big_endian(v, extent.segment, 4);
  put_big_endian(v, extent.offset, 8);
  put_big_endian(v, extent.length, 4);
  put_big_endian(v, extent.crc, 4);
  return v;
}

std::optional<BodyExtent> decode_body_extent(std::string_view value) {
  if (value.size() != kBodyExtentBytes) return std::nullopt;
  auto take = [&value](int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(value[i]);
    value.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  };
  BodyExtent e;
  e.segment = static_cast<std::uint32_t>(take(4));
  e.offset = take(8);
  e.length = static_cast<std::uint32_t>(take(4));
  e.crc = static_cast<std::uint32_t>(take(4));
  return e;
}

// Direct I/O needs offsets, lengths and memory aligned to the device's logical block; 4 KiB
// covers every common one.
constexpr std::size_t kAlignment = 4096;
constexpr std::size_t kWriteBufferBytes = 1 << 20;
// Full buffers waiting for the writer before appends wait for it. The disk stalls for 50 ms
// and more behind another file's fsync (LevelDB syncs each new table); while appends wait,
// so does every commit queued behind them. When a miss's client waited for its commit, 16
// MiB here (not 8) cut the misses' p99 from 49 to 22 ms at 16 connections (session 8); now
// that clients are answered first (proxy/background_commit, with its own 1 MiB allowance
// for bodies waiting), 8 MiB here is enough: more only queues more behind a stall.
constexpr std::size_t kMaxQueuedBuffers = 8;
// Written-out buffers kept for reuse: every buffer there can be at once (the queue, one being
// filled and one more). Freeing those a stall needed and allocating them again at the next
// one left megabyte holes in the heap that glibc kept resident (60-80 MiB more peak RSS over
// the miss cases).
constexpr std::size_t kSpareBuffers = kMaxQueuedBuffers + 2;

std::uint64_t round_up(std::uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

namespace {

// Copies an extent into a write buffer around the CPU's caches (non-temporal stores): the
// buffer goes to the disk by direct I/O and this CPU seldom reads it again, while a plain copy
// first reads every destination line from memory and then evicts the network threads' data
// with it. 1.4 against 5.3 µs per 16 KiB here, source and destination out of cache (as they
// are when a group commit runs). The fence makes the stores visible to other threads before
// the buffer's lock is released.
void copy_to_write_buffer(char* dst, const char* src, std::size_t n) {
#if defined(__x86_64__)
  const std::size_t head =
      std::min(n, (16 - (reinterpret_cast<std::uintptr_t>(dst) & 15)) & std::size_t{15});
  std::memcpy(dst, src, head);
  dst += head;
  src += head;
  n -= head;
  for (; n >= 64; n -= 64, dst += 64, src += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + 48), d);
  }
  std::memcpy(dst, src, n);
  _mm_sfence();
#else
  std::memcpy(dst, src, n);
#endif
}

}  // namespace

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using AlignedBytes = std::unique_ptr<char, FreeDeleter>;

struct BodySegments::Segment {
  Segment(std::uint32_t n, int w, int r, std::filesystem::path p, std::uint64_t b, bool s)
      : number(n), write_fd(w), read_fd(r), path(std::move(p)), bytes(b), sealed(s) {}
  ~Segment() {
    if (write_fd >= 0) ::close(write_fd);
    ::close(read_fd);
  }
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::uint32_t number;
  const int write_fd;  // -1 for segments found at open: they are never written again
  const int read_fd;
  const std::filesystem::path path;
  // Guarded by BodySegments::mutex_.
  std::uint64_t bytes;  // the file's size once every buffer taken from it is written
  bool sealed;
  std::uint32_t unsettled = 0;
};

struct BodySegments::WriteBuffer {
  std::shared_ptr<Segment> segment;
  std::uint64_t offset = 0;  // in the segment file, aligned
  AlignedBytes data;
  std::size_t used = 0;  // guarded by BodySegments::mutex_ while the buffer is filling
};

BodySegments::~BodySegments() {
  if (!writer_.joinable()) return;
  flush();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  writer_.join();
}

bool BodySegments::open(const std::filesystem::path& directory, std::uint64_t segment_bytes,
                        std::size_t max_extent_bytes, bool discard, std::string* error) {
  std::lock_guard lock(mutex_);
  directory_ = directory;
  segment_bytes_ = segment_bytes;
  buffer_bytes_ = std::max<std::size_t>(kWriteBufferBytes, round_up(max_extent_bytes));
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    *error = fmt::format("cannot create body directory {}: {}", directory.string(), ec.message());
    return false;
  }
  for (const auto& file : std::filesystem::directory_iterator(directory, ec)) {
    const std::optional<std::uint32_t> number = segment_number(file.path().filename().string());
    if (!number) continue;
    if (discard) {
      std::filesystem::remove(file.path(), ec);
      continue;
    }
    const int fd = ::open(file.path().c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      *error = fmt::format("cannot open body segment {}: {}", file.path().string(),
                           std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return false;
    }
    // Reads are of whole extents, wherever they are: read-ahead would only fetch neighbours.
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    segments_.emplace(*number,
                      std::make_shared<Segment>(*number, -1, fd, file.path(), size, true));
    total_bytes_ += size;
    next_number_ = std::max(next_number_, *number + 1);
  }
  if (ec) {
    *error = fmt::format("cannot list body directory {}: {}", directory.string(), ec.message());
    return false;
  }
  if (!start_segment_locked(error)) return false;
  if (!writer_.joinable()) writer_ = std::thread([this] { write_loop(); });
  return true;
}

bool BodySegments::start_segment_locked(std::string* error) {
  const std::uint32_t number = next_number_++;
  std::filesystem::path path = directory_ / segment_name(number);
  int write_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT, 0644);
  if (write_fd < 0 && errno == EINVAL) {
    // A file system without direct I/O (tmpfs before Linux 6.6): the same aligned writes,
    // through the page cache.
    direct_ = false;
    write_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  }
  const int read_fd = write_fd < 0 ? -1 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (read_fd < 0) {
    if (error) *error = fmt::format("cannot create {}: {}", path.string(), std::strerror(errno));
    if (write_fd >= 0) ::close(write_fd);
    return false;
  }
  (void)::posix_fadvise(read_fd, 0, 0, POSIX_FADV_RANDOM);
  if (active_) active_->sealed = true;
  active_ = std::make_shared<Segment>(number, write_fd, read_fd, std::move(path), 0, false);
  segments_.emplace(number, active_);
  return true;
}

void BodySegments::queue_buffer_locked() {
  if (!filling_ || filling_->used == 0) return;
  const std::uint64_t padded = round_up(filling_->used);
  total_bytes_ += padded - filling_->used;
  filling_->segment->bytes = filling_->offset + padded;
  writing_.push_back(std::move(filling_));
  queued_.notify_one();
}

void BodySegments::write_loop() {
  become_background_thread("cp-seg-writer");
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_.wait(lock, [this] { return stopping_ || !writing_.empty(); });
    if (writing_.empty()) return;  // stopping, and everything is written
    // Stays at the front of writing_ (so reads still find it) until written.
    std::shared_ptr<WriteBuffer> buffer = writing_.front();
    lock.unlock();
    const std::size_t length = round_up(buffer->used);
    // The padding is written too: zeros, not whatever the buffer's memory held.
    std::memset(buffer->data.get() + buffer->used, 0, length - buffer->used);
    // A failed write loses the buffer's extents: their reads then fail the length or CRC
    // check and the entries are erased.
    (void)write_all(buffer->segment->write_fd, {buffer->data.get(), length}, buffer->offset);
    lock.lock();
    writing_.pop_front();
    // No reader can find the buffer now. If none holds it either, it becomes a later filling
    // buffer: a fresh megabyte per write would come from the heap and go back to it each
    // time, and glibc keeps such freed runs resident.
    if (buffer.use_count() == 1 && spare_.size() < kSpareBuffers) {
      buffer->segment.reset();
      spare_.push_back(std::move(buffer));
    }
    written_.notify_all();
  }
}

void BodySegments::flush() {
  std::unique_lock lock(mutex_);
  queue_buffer_locked();
  written_.wait(lock, [this] { return writing_.empty(); });
}

std::optional<BodyExtent> BodySegments::append(std::string_view data,
                                               std::optional<std::uint32_t> crc) {
  BodyExtent extent;
  extent.length = static_cast<std::uint32_t>(data.size());
  extent.crc = crc ? *crc : crc32c(data);
  std::unique_lock lock(mutex_);
  // The disk is kMaxQueuedBuffers behind: wait for it rather than buffer without bound.
  written_.wait(lock, [this] { return writing_.size() < kMaxQueuedBuffers; });
  const std::uint64_t end = filling_ ? filling_->offset + filling_->used : active_->bytes;
  if (end > 0 && end + data.size() > segment_bytes_) {
    // The segment is full. (A chunk larger than a segment gets a segment of its own.)
    queue_buffer_locked();
    if (!start_segment_locked(nullptr)) return std::nullopt;
  } else if (filling_ && filling_->used + data.size() > buffer_bytes_) {
    queue_buffer_locked();
  }
  if (data.size() > buffer_bytes_) return std::nullopt;
  if (!filling_) {
    if (!spare_.empty()) {
      filling_ = std::move(spare_.back());
      spare_.pop_back();
      filling_->used = 0;
    } else {
      filling_ = std::make_shared<WriteBuffer>();
      filling_->data.reset(static_cast<char*>(std::aligned_alloc(kAlignment, buffer_bytes_)));
    }
    filling_->segment = active_;
    filling_->offset = active_->bytes;
  }
  extent.segment = active_->number;
  extent.offset = filling_->offset + filling_->used;
  copy_to_write_buffer(filling_->data.get() + filling_->used, data.data(), data.size());
  filling_->used += data.size();
  active_->bytes = filling_->offset + filling_->used;
  total_bytes_ += data.size();
  ++active_->unsettled;
  return extent;
}

void BodySegments::settle(const BodyExtent& extent) {
  std::lock_guard lock(mutex_);
  const auto it = segments_.find(extent.segment);
  if (it != segments_.end() && it->second->unsettled > 0) --it->second->unsettled;
}

std::shared_ptr<BodySegments::WriteBuffer> BodySegments::buffer_holding_locked(
    const BodyExtent& extent) const {
  auto holds = [&extent](const std::shared_ptr<WriteBuffer>& b) {
    return b && b->segment->number == extent.segment && extent.offset >= b->offset &&
           extent.offset + extent.length <= b->offset + b->used;
  };
  if (holds(filling_)) return filling_;
  for (const auto& b : writing_)
    if (holds(b)) return b;
  return nullptr;
}

bool BodySegments::read(const BodyExtent& extent, std::string* out) const {
  std::shared_ptr<WriteBuffer> buffer;
  std::shared_ptr<Segment> segment;
  {
    std::lock_guard lock(mutex_);
    buffer = buffer_holding_locked(extent);
    if (!buffer) {
      const auto it = segments_.find(extent.segment);
      if (it == segments_.end()) return false;
      segment = it->second;
    }
  }
  if (buffer) {
    // Bytes below `used` never change once appended: safe to copy without the lock.
    out->assign(buffer->data.get() + (extent.offset - buffer->offset), extent.length);
  } else {
    out->resize(extent.length);
    if (!read_all(segment->read_fd, out->data(), extent.length, extent.offset)) return false;
  }
  return crc32c(*out) == extent.crc;
}

bool BodySegments::roll() {
  std::lock_guard lock(mutex_);
  if (active_->bytes == 0) return false;
  queue_buffer_locked();
  return start_segment_locked(nullptr);
}

void BodySegments::remove(std::uint32_t number) {
  std::unique_lock hold(retire_mutex_);
  std::lock_guard lock(mutex_);
  const auto it = segments_.find(number);
  if (it == segments_.end() || it->second == active_) return;
  std::error_code ec;
  std::filesystem::remove(it->second->path, ec);
  total_bytes_ -= it->second->bytes;
  segments_.erase(it);
}

std::vector<SegmentInfo> BodySegments::list() const {
  std::lock_guard lock(mutex_);
  std::vector<SegmentInfo> out;
  out.reserve(segments_.size());
  for (const auto& [number, s] : segments_) out.push_back({number, s->bytes, s->sealed, s->unsettled});
  return out;
}

std::uint64_t BodySegments::total_bytes() const {
  std::lock_guard lock(mutex_);
  return total_bytes_;
}

}  // namespace cacheproxy::cache
