// Which body segments the store's collector frees, and when: pure arithmetic over the live
// bytes a scan of the chunk records found in each sealed segment, kept apart from the scan
// and the copying (leveldb_store.cpp) so it can be tested without a store.
//
// Collection is due when the segment files hold more garbage than the slack. A pass then
// frees down to half the slack, not just below the trigger: each pass reads every chunk
// record, and a steady stream of evictions would otherwise pay a whole scan for every segment
// it empties.
#pragma once

#include <cstdint>
#include <vector>

namespace cacheproxy::cache {

// The segment files may hold this fraction of the live bytes as garbage (deleted or replaced
// bodies), or two segments if that is more, before collection is due: disk use stays within
// (1 + kSegmentSlack) x budget plus two segments. A larger slack would copy less (each
// collected segment is then emptier) at the cost of disk space.
inline constexpr double kSegmentSlack = 0.25;
// Over the trigger, a segment more live than this is not worth copying to free the rest;
// the bytes over the allowance are then in inserts still running or in the active segment.
inline constexpr double kMaxCollectedLiveRatio = 0.9;
// Under the trigger, on the way down to half the slack, a segment is copied only if that
// frees more bytes than it writes.
inline constexpr double kMaxTopUpLiveRatio = 0.5;

std::uint64_t collection_slack(std::uint64_t live_bytes, std::uint64_t segment_bytes);
bool collection_due(std::uint64_t file_bytes, std::uint64_t live_bytes,
                    std::uint64_t segment_bytes);

struct SealedSegment {
  std::uint32_t number = 0;
  std::uint64_t bytes = 0;  // the segment file's size
  std::uint64_t live = 0;   // bytes of it that chunk records point to
};

struct CollectionPlan {
  std::vector<std::uint32_t> remove;  // nothing points into these: delete them
  std::vector<std::uint32_t> copy;    // move their live extents out, then delete them
};

// What one pass frees, given every sealed segment nothing is still being written to, the
// size of all segment files (the active one included) and the live bytes of the store.
// Every dead segment goes; then the least live ones are copied out while the files would
// stay over half the slack, within kMaxCollectedLiveRatio over the trigger and
// kMaxTopUpLiveRatio under it, and at most a segment's worth of live bytes in all (the first
// one whatever its size).
CollectionPlan plan_collection(std::vector<SealedSegment> sealed, std::uint64_t file_bytes,
                               std::uint64_t live_bytes, std::uint64_t segment_bytes);

}  // namespace cacheproxy::cache
