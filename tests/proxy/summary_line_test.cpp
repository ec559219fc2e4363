// The summary line the binary logs every stats_interval: the counters an admin watches,
// stores skipped (the store behind, see storage_nice) among them.
#include <catch2/catch.hpp>
#include <string>

#include "proxy/stats.hpp"

using cacheproxy::Stats;

TEST_CASE("the summary line counts stores and stores skipped", "[stats]") {
  Stats stats;
  stats.count_store();
  stats.count_store();
  stats.count_store();
  stats.count_store_skipped();
  const std::string line = cacheproxy::summary_line(stats.snapshot());
  CHECK(line.find(" stores=3 ") != std::string::npos);
  CHECK(line.find(" stores_skipped=1 ") != std::string::npos);
}
