#include "cache/segment_collection.hpp"

#include <algorithm>

namespace cacheproxy::cache {

std::uint64_t collection_slack(std::uint64_t live_bytes, std::uint64_t segment_bytes) {
  return std::max<std::uint64_t>(static_cast<std::uint64_t>(live_bytes * kSegmentSlack),
                                 2 * segment_bytes);
}

bool collection_due(std::uint64_t file_bytes, std::uint64_t live_bytes,
                    std::uint64_t segment_bytes) {
  return file_bytes > live_bytes + collection_slack(live_bytes, segment_bytes);
}

CollectionPlan plan_collection(std::vector<SealedSegment> sealed, std::uint64_t file_bytes,
                               std::uint64_t live_bytes, std::uint64_t segment_bytes) {
  CollectionPlan plan;
  std::erase_if(sealed, [&](const SealedSegment& s) {
    if (s.live != 0) return false;
    plan.remove.push_back(s.number);
    file_bytes -= std::min(file_bytes, s.bytes);
    return true;
  });
  // The emptiest first: each byte copied frees the most.
  auto live_ratio = [](const SealedSegment& s) {
    return static_cast<double>(s.live) / static_cast<double>(std::max<std::uint64_t>(s.bytes, 1));
  };
  std::sort(sealed.begin(), sealed.end(), [&](const SealedSegment& a, const SealedSegment& b) {
    return live_ratio(a) < live_ratio(b);
  });
  const std::uint64_t low_water = live_bytes + collection_slack(live_bytes, segment_bytes) / 2;
  std::uint64_t copied = 0;
  for (const SealedSegment& s : sealed) {
    if (file_bytes <= low_water) break;
    const bool due = collection_due(file_bytes, live_bytes, segment_bytes);
    if (live_ratio(s) > (due ? kMaxCollectedLiveRatio : kMaxTopUpLiveRatio)) break;
    // The copied extents' records are held in memory for the pass: at most a segment's worth
    // of live bytes (as when a pass copied one segment), the rest left to the next pass.
    if (!plan.copy.empty() && copied + s.live > segment_bytes) break;
    copied += s.live;
    plan.copy.push_back(s.number);
    // Its live bytes are written again, into the active segment.
    file_bytes -= std::min(file_bytes, s.bytes - std::min(s.bytes, s.live));
  }
  return plan;
}

}  // namespace cacheproxy::cache
