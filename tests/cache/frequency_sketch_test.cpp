#include "cache/frequency_sketch.hpp"

#include <catch2/catch.hpp>
#include <string>

namespace cacheproxy::cache {
namespace {

TEST_CASE("the sketch counts requests per key and saturates", "[frequency_sketch]") {
  FrequencySketch sketch(1024);
  const std::uint64_t a = FrequencySketch::hash("http://a.example/");
  const std::uint64_t b = FrequencySketch::hash("http://b.example/");
  REQUIRE(a != b);
  REQUIRE(sketch.estimate(a) == 0);
  sketch.add(a);  // the first request only passes the doorkeeper
  REQUIRE(sketch.estimate(a) == 1);
  for (int i = 0; i < 4; ++i) sketch.add(a);
  REQUIRE(sketch.estimate(a) == 5);
  REQUIRE(sketch.estimate(b) == 0);
  for (int i = 0; i < 100; ++i) sketch.add(a);
  REQUIRE(sketch.estimate(a) == 16);  // 15 in the counters + the doorkeeper bit
}

TEST_CASE("the sketch halves its counts after each sample", "[frequency_sketch]") {
  FrequencySketch sketch(64);
  const std::uint64_t hot = FrequencySketch::hash("hot");
  for (int i = 0; i < 9; ++i) sketch.add(hot);
  REQUIRE(sketch.estimate(hot) == 9);
  // Sample size: 10 x 64 additions. Fill the rest of it with distinct keys (each once).
  for (int i = 0; i < 640 - 9; ++i) sketch.add(FrequencySketch::hash("cold" + std::to_string(i)));
  // 8 counted + the doorkeeper bit before; after halving 4 and a cleared doorkeeper. Other
  // keys may share a cell in a row, but never in all four (count-min takes the least).
  REQUIRE(sketch.estimate(hot) >= 4);
  REQUIRE(sketch.estimate(hot) < 9);
}

TEST_CASE("first requests of many keys are rarely taken for second ones", "[frequency_sketch]") {
  // BU at 5% of its unique bytes: a 16,384-wide sketch sees 36,815 distinct keys within one
  // sample period. Each key's first request must look like a first request (estimate 1,
  // the doorkeeper bit alone): a key taken for a second one enters GDSF at frequency 2.
  FrequencySketch sketch(16384);
  int taken_for_second = 0;
  const int keys = 36'815;
  for (int i = 0; i < keys; ++i) {
    const std::uint64_t h = FrequencySketch::hash("http://127.0.0.1/obj/" + std::to_string(i));
    sketch.add(h);
    if (sketch.estimate(h) > 1) ++taken_for_second;
  }
  // Format 1's 4-bit-per-counter doorkeeper took about a fifth of them (near the end, half).
  REQUIRE(taken_for_second < keys / 20);
  REQUIRE(sketch.memory_bytes() == 16384 * (4 * 4 + 16) / 8);
}

TEST_CASE("a sketch survives serialisation and refuses another width or format",
          "[frequency_sketch]") {
  FrequencySketch sketch(2048);
  for (int i = 0; i < 300; ++i) sketch.add(FrequencySketch::hash("k" + std::to_string(i % 37)));
  const std::string saved = sketch.serialize();

  FrequencySketch copy(2048);
  REQUIRE(copy.deserialize(saved));
  for (int i = 0; i < 37; ++i) {
    const std::uint64_t h = FrequencySketch::hash("k" + std::to_string(i));
    REQUIRE(copy.estimate(h) == sketch.estimate(h));
    REQUIRE(copy.estimate(h) >= 8);
  }
  FrequencySketch other(4096);
  REQUIRE_FALSE(other.deserialize(saved));
  REQUIRE_FALSE(copy.deserialize(saved.substr(0, saved.size() - 1)));
  REQUIRE_FALSE(copy.deserialize("nonsense"));
  // A sketch saved in format 2 (each row's counter anywhere in the row) reads as nonsense now.
  std::string format2 = saved;
  format2[0] = 2;
  REQUIRE_FALSE(copy.deserialize(format2));
  REQUIRE(copy.estimate(FrequencySketch::hash("k1")) == sketch.estimate(FrequencySketch::hash("k1")));
}

TEST_CASE("key hashes are stable across runs", "[frequency_sketch]") {
  // A saved sketch is only useful if the next process hashes keys the same way.
  REQUIRE(FrequencySketch::hash("") == FrequencySketch::hash(""));
  REQUIRE(FrequencySketch::hash("http://example.com/") != FrequencySketch::hash("http://example.com"));
  // FNV-1a 64 of "abc", mixed by SplitMix64's finaliser: a change here orphans saved sketches.
  REQUIRE(FrequencySketch::hash("abc") == 0x0dd490490804b508ull);
}

}  // namespace
}  // namespace cacheproxy::cache
