#include "cache/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace cacheproxy::cache {
namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78;  // Castagnoli, bit-reversed

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kTable = make_table();

std::uint32_t crc32c_table(const unsigned char* p, std::size_t n, std::uint32_t crc) {
  for (std::size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

// The CRC32 instruction takes 3 cycles but can start every cycle: three independent streams
// of kStreamBytes each are interleaved, and their CRCs joined. Joining needs the CRC register
// moved past kStreamBytes zero bytes, a linear map over GF(2) applied here through four
// 256-entry tables (one per byte of the register), computed at compile time.
constexpr std::size_t kStreamBytes = 512;

// A 32x32 matrix over GF(2) as its columns: column j is the image of bit j.
using Gf2Matrix = std::array<std::uint32_t, 32>;

constexpr std::uint32_t apply(const Gf2Matrix& m, std::uint32_t v) {
  std::uint32_t out = 0;
  for (int j = 0; v != 0; ++j, v >>= 1)
    if (v & 1) out ^= m[j];
  return out;
}

constexpr Gf2Matrix square(const Gf2Matrix& m) {
  Gf2Matrix out{};
  for (int j = 0; j < 32; ++j) out[j] = apply(m, m[j]);
  return out;
}

// Tables whose XOR, indexed by the register's four bytes, is the register after
// kStreamBytes zero bytes.
constexpr std::array<std::array<std::uint32_t, 256>, 4> make_shift_tables() {
  // One zero bit: the register shifts right, and the polynomial comes in if bit 0 was set.
  Gf2Matrix m{};
  m[0] = kPolynomial;
  for (int j = 1; j < 32; ++j) m[j] = 1u << (j - 1);
  // Squaring doubles the number of zero bits: 8 bits, then bytes up to kStreamBytes.
  for (std::size_t bits = 1; bits < 8 * kStreamBytes; bits *= 2) m = square(m);
  std::array<std::array<std::uint32_t, 256>, 4> tables{};
  for (int k = 0; k < 4; ++k)
    for (std::uint32_t b = 0; b < 256; ++b) tables[k][b] = apply(m, b << (8 * k));
  return tables;
}
constexpr auto kShift = make_shift_tables();
static_assert((kStreamBytes & (kStreamBytes - 1)) == 0, "squaring reaches powers of two");

constexpr std::uint32_t shift_past_stream(std::uint32_t crc) {
  return kShift[0][crc & 0xFF] ^ kShift[1][(crc >> 8) & 0xFF] ^ kShift[2][(crc >> 16) & 0xFF] ^
         kShift[3][crc >> 24];
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(const unsigned char* p,
                                                              std::size_t n,
                                                              std::uint32_t crc) {
  std::uint64_t c = crc;
  for (; n >= 3 * kStreamBytes; n -= 3 * kStreamBytes, p += 3 * kStreamBytes) {
    std::uint64_t c1 = 0;
    std::uint64_t c2 = 0;
    for (std::size_t i = 0; i < kStreamBytes; i += 8) {
      std::uint64_t w0;
      std::uint64_t w1;
      std::uint64_t w2;
      std::memcpy(&w0, p + i, 8);
      std::memcpy(&w1, p + kStreamBytes + i, 8);
      std::memcpy(&w2, p + 2 * kStreamBytes + i, 8);
      c = _mm_crc32_u64(c, w0);
      c1 = _mm_crc32_u64(c1, w1);
      c2 = _mm_crc32_u64(c2, w2);
    }
    // The first stream's register moved past the second, joined, and past the third.
    std::uint32_t joined = shift_past_stream(static_cast<std::uint32_t>(c)) ^
                           static_cast<std::uint32_t>(c1);
    c = shift_past_stream(joined) ^ static_cast<std::uint32_t>(c2);
  }
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  std::uint32_t c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
  return c32;
}

const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  crc = ~crc;
#if defined(__x86_64__)
  if (kHaveSse42) return ~crc32c_sse42(p, data.size(), crc);
#endif
  return ~crc32c_table(p, data.size(), crc);
}

}  // namespace cacheproxy::cache
