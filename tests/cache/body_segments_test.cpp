// BodySegments (cache/body_segments.hpp) on real files in a temporary folder: extents read
// back whether their bytes are still in a write buffer, queued for the writer thread, or on
// disk, across segments, concurrent appenders and a reopen.
#include "cache/body_segments.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"

using namespace cacheproxy::cache;

namespace {

using cacheproxy::cache::testing::TempDir;

// Distinct, size-varying contents: extent i of appender t.
std::string body(int t, int i) {
  std::string out(1000 + (i * 7919) % 20'000, '\0');
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = static_cast<char>(t * 31 + i * 17 + k);
  return out;
}

constexpr std::uint64_t kSegmentBytes = 4 << 20;
constexpr std::size_t kMaxExtent = 256 * 1024;

}  // namespace

TEST_CASE("body segments: every extent reads back from memory, after flush and after reopen",
          "[segments]") {
  TempDir dir;
  constexpr int kAppenders = 2;
  // ~30 MiB in all: several segments, and more full buffers than the writer's queue holds.
  constexpr int kPerAppender = 1500;
  std::vector<std::vector<BodyExtent>> extents(kAppenders);
  {
    BodySegments segments;
    std::string error;
    REQUIRE(segments.open(dir.path(), kSegmentBytes, kMaxExtent, false, &error));
    std::vector<std::thread> appenders;
    std::vector<int> bad_reads(kAppenders, 0);
    for (int t = 0; t < kAppenders; ++t) {
      appenders.emplace_back([&, t] {
        for (int i = 0; i < kPerAppender; ++i) {
          const std::string data = body(t, i);
          std::optional<BodyExtent> extent = segments.append(data);
          if (!extent) {
            ++bad_reads[t];
            continue;
          }
          segments.settle(*extent);
          extents[t].push_back(*extent);
          // At once: the bytes are in a buffer or queued, not necessarily on disk.
          std::string out;
          if (!segments.read(*extent, &out) || out != data) ++bad_reads[t];
        }
      });
    }
    for (auto& a : appenders) a.join();
    CHECK(bad_reads == std::vector<int>(kAppenders, 0));
    segments.flush();
    for (int t = 0; t < kAppenders; ++t) {
      REQUIRE(extents[t].size() == kPerAppender);
      for (int i = 0; i < kPerAppender; ++i) {
        std::string out;
        REQUIRE(segments.read(extents[t][i], &out));
        REQUIRE(out == body(t, i));
      }
    }
    const std::vector<SegmentInfo> list = segments.list();
    CHECK(list.size() >= 7);  // ~30 MiB in 4 MiB segments
    std::uint64_t on_disk = 0;
    for (const auto& file : std::filesystem::directory_iterator(std::filesystem::path(dir.path())))
      on_disk += std::filesystem::file_size(file.path());
    CHECK(on_disk == segments.total_bytes());
  }
  BodySegments reopened;
  std::string error;
  REQUIRE(reopened.open(dir.path(), kSegmentBytes, kMaxExtent, false, &error));
  for (int t = 0; t < kAppenders; ++t) {
    for (int i = 0; i < kPerAppender; ++i) {
      std::string out;
      REQUIRE(reopened.read(extents[t][i], &out));
      REQUIRE(out == body(t, i));
    }
  }
}

TEST_CASE("body segments: roll seals the active segment and remove deletes a sealed one",
          "[segments]") {
  TempDir dir;
  BodySegments segments;
  std::string error;
  REQUIRE(segments.open(dir.path(), kSegmentBytes, kMaxExtent, false, &error));
  const std::optional<BodyExtent> first = segments.append(body(0, 1));
  REQUIRE(first);
  segments.settle(*first);
  REQUIRE(segments.roll());
  CHECK_FALSE(segments.roll());  // the new active segment is empty
  const std::optional<BodyExtent> second = segments.append(body(0, 2));
  REQUIRE(second);
  CHECK(second->segment != first->segment);
  segments.flush();
  segments.remove(first->segment);
  std::string out;
  CHECK_FALSE(segments.read(*first, &out));
  REQUIRE(segments.read(*second, &out));
  CHECK(out == body(0, 2));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& file : std::filesystem::directory_iterator(std::filesystem::path(dir.path())))
    ++files;
  CHECK(files == 1);
}
