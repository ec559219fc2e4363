#include "cache/body_segments.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

struct BodySegments::Segment {
  Segment(std::uint32_t n, int f, std::filesystem::path p, std::uint64_t b, bool s)
      : number(n), fd(f), path(std::move(p)), bytes(b), sealed(s) {}
  ~Segment() { ::close(fd); }
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  const std::uint32_t number;
  const int fd;
  const std::filesystem::path path;
  // Guarded by BodySegments::mutex_.
  std::uint64_t bytes;  // reserved by appends, written or not
  bool sealed;
  std::uint32_t unsettled = 0;
};

BodySegments::~BodySegments() = default;

bool BodySegments::open(const std::filesystem::path& directory, std::uint64_t segment_bytes,
                        bool discard, std::string* error) {
  std::lock_guard lock(mutex_);
  directory_ = directory;
  segment_bytes_ = segment_bytes;
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
    const int fd = ::open(file.path().c_str(), O_RDWR | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      *error = fmt::format("cannot open body segment {}: {}", file.path().string(),
                           std::strerror(errno));
      if (fd >= 0) ::close(fd);
      return false;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    segments_.emplace(*number, std::make_shared<Segment>(*number, fd, file.path(), size, true));
    total_bytes_ += size;
    next_number_ = std::max(next_number_, *number + 1);
  }
  if (ec) {
    *error = fmt::format("cannot list body directory {}: {}", directory.string(), ec.message());
    return false;
  }
  return start_segment_locked(error);
}

bool BodySegments::start_segment_locked(std::string* error) {
  const std::uint32_t number = next_number_++;
  std::filesystem::path path = directory_ / segment_name(number);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (error) *error = fmt::format("cannot create {}: {}", path.string(), std::strerror(errno));
    return false;
  }
  if (active_) active_->sealed = true;
  active_ = std::make_shared<Segment>(number, fd, std::move(path), 0, false);
  segments_.emplace(number, active_);
  return true;
}

std::optional<BodyExtent> BodySegments::append(std::string_view data) {
  std::shared_ptr<Segment> segment;
  BodyExtent extent;
  {
    std::lock_guard lock(mutex_);
    // A body chunk larger than a segment gets a segment of its own.
    if (active_->bytes > 0 && active_->bytes + data.size() > segment_bytes_ &&
        !start_segment_locked(nullptr))
      return std::nullopt;
    segment = active_;
    extent.segment = segment->number;
    extent.offset = segment->bytes;
    segment->bytes += data.size();
    total_bytes_ += data.size();
    ++segment->unsettled;
  }
  extent.length = static_cast<std::uint32_t>(data.size());
  extent.crc = crc32c(data);
  if (!write_all(segment->fd, data, extent.offset)) {
    settle(extent);  // the reserved bytes stay, as garbage no pointer names
    return std::nullopt;
  }
  return extent;
}

void BodySegments::settle(const BodyExtent& extent) {
  std::lock_guard lock(mutex_);
  const auto it = segments_.find(extent.segment);
  if (it != segments_.end() && it->second->unsettled > 0) --it->second->unsettled;
}

std::shared_ptr<BodySegments::Segment> BodySegments::find(std::uint32_t number) const {
  std::lock_guard lock(mutex_);
  const auto it = segments_.find(number);
  return it == segments_.end() ? nullptr : it->second;
}

bool BodySegments::read(const BodyExtent& extent, std::string* out) const {
  const std::shared_ptr<Segment> segment = find(extent.segment);
  if (!segment) return false;
  out->resize(extent.length);
  return read_all(segment->fd, out->data(), extent.length, extent.offset) &&
         crc32c(*out) == extent.crc;
}

bool BodySegments::roll() {
  std::lock_guard lock(mutex_);
  return active_->bytes > 0 && start_segment_locked(nullptr);
}

void BodySegments::remove(std::uint32_t number) {
  std::unique_lock hold(retire_mutex_);
  std::lock_guard lock(mutex_);
  const auto it = segments_.find(number);
  if (it == segments_.end() || it == segments_.find(active_->number)) return;
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
