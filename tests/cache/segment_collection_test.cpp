#include "cache/segment_collection.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

namespace cacheproxy::cache {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kSegment = 64 * kMiB;
// 2 GiB live: the slack is 512 MiB (8 segments), half of it 256 MiB.
constexpr std::uint64_t kLive = 2048 * kMiB;

SealedSegment segment(std::uint32_t number, double live_ratio) {
  return {number, kSegment, static_cast<std::uint64_t>(live_ratio * kSegment)};
}

TEST_CASE("collection is due past a quarter of the live bytes, or two segments",
          "[segment_collection]") {
  REQUIRE(collection_slack(kLive, kSegment) == 512 * kMiB);
  REQUIRE(collection_slack(100 * kMiB, kSegment) == 2 * kSegment);
  REQUIRE_FALSE(collection_due(kLive + 512 * kMiB, kLive, kSegment));
  REQUIRE(collection_due(kLive + 512 * kMiB + 1, kLive, kSegment));
}

TEST_CASE("a pass deletes every dead segment, then copies the least live down to half the slack",
          "[segment_collection]") {
  // 600 MiB of garbage: the two dead segments bring it to 472 MiB, still over 256 MiB, and
  // the emptiest live segments go next, least live first.
  const CollectionPlan plan =
      plan_collection({segment(1, 0.3), segment(2, 0), segment(3, 0.05), segment(4, 0),
                       segment(5, 0.95), segment(6, 0.2)},
                      kLive + 600 * kMiB, kLive, kSegment);
  REQUIRE(plan.remove == std::vector<std::uint32_t>{2, 4});
  // 472 MiB - 0.95 x 64 (segment 3) - 0.8 x 64 (6) - 0.7 x 64 (1) = 315.2 MiB: still over,
  // but the nearly full segment 5 is not worth copying.
  REQUIRE(plan.copy == std::vector<std::uint32_t>{3, 6, 1});

  const CollectionPlan mostly_dead = plan_collection(
      {segment(1, 0), segment(2, 0), segment(3, 0), segment(4, 0), segment(5, 0.1)},
      kLive + 520 * kMiB, kLive, kSegment);
  REQUIRE(mostly_dead.remove.size() == 4);  // 520 - 256 = 264 MiB, over half the slack:
  REQUIRE(mostly_dead.copy == std::vector<std::uint32_t>{5});  // the 10%-live one goes too
}

TEST_CASE("under the trigger only segments mostly garbage are copied; over it, up to 90% live",
          "[segment_collection]") {
  // Over the trigger with nothing dead, the least live segment is copied though 60% live:
  // the files must come down. That brings them under the trigger, where the 70%-live one
  // is not worth its copy.
  const CollectionPlan over = plan_collection({segment(1, 0.7), segment(2, 0.6)},
                                              kLive + 513 * kMiB, kLive, kSegment);
  REQUIRE(over.remove.empty());
  REQUIRE(over.copy == std::vector<std::uint32_t>{2});

  const CollectionPlan full = plan_collection({segment(1, 0.92), segment(2, 0.95)},
                                              kLive + 600 * kMiB, kLive, kSegment);
  REQUIRE(full.remove.empty());
  REQUIRE(full.copy.empty());  // nothing worth copying: the next pass waits for more garbage
}

TEST_CASE("a pass copies at most a segment's worth of live bytes", "[segment_collection]") {
  // Far over the trigger, six segments 30% live: three of them (0.9 of a segment's bytes)
  // are copied, and the fourth would pass one segment's worth. The next pass takes more.
  const CollectionPlan plan = plan_collection(
      {segment(1, 0.3), segment(2, 0.3), segment(3, 0.3), segment(4, 0.3), segment(5, 0.3),
       segment(6, 0.3)},
      kLive + 900 * kMiB, kLive, kSegment);
  REQUIRE(plan.copy.size() == 3);
  // One segment is always taken, however live (within the ratio): the files must come down.
  const CollectionPlan one =
      plan_collection({segment(1, 0.85), segment(2, 0.85)}, kLive + 600 * kMiB, kLive, kSegment);
  REQUIRE(one.copy.size() == 1);
}

TEST_CASE("a pass under half the slack frees nothing live", "[segment_collection]") {
  const CollectionPlan plan = plan_collection({segment(1, 0), segment(2, 0.1)},
                                              kLive + 100 * kMiB, kLive, kSegment);
  REQUIRE(plan.remove == std::vector<std::uint32_t>{1});  // dead segments always go
  REQUIRE(plan.copy.empty());
}

}  // namespace
}  // namespace cacheproxy::cache
