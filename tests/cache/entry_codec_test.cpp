#include "cache/entry_codec.hpp"
#include "cache/header_fields.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace cacheproxy::cache {
namespace {

using FieldList = std::vector<std::pair<std::string, std::string>>;

FieldList field_list(const cacheproxy::Fields& fields) {
  FieldList out;
  for (const auto& f : fields) out.emplace_back(f.name_string(), f.value());
  return out;
}

void require_same(const EntryMeta& a, const EntryMeta& b) {
  REQUIRE(a.status == b.status);
  REQUIRE(field_list(a.headers) == field_list(b.headers));
  REQUIRE(field_list(a.vary_request_headers) == field_list(b.vary_request_headers));
  REQUIRE(a.request_time == b.request_time);
  REQUIRE(a.response_time == b.response_time);
  REQUIRE(a.body_size == b.body_size);
  REQUIRE(a.body_id == b.body_id);
}

EntryMeta sample_meta() {
  EntryMeta m;
  m.status = 200;
  m.headers.insert("Content-Type", "text/html; charset=utf-8");
  m.headers.insert("Set-Cookie", "a=1");
  m.headers.insert("X-Custom-Thing", "");
  m.headers.insert("Set-Cookie", "b=2");
  m.headers.insert("ETag", "\"abc\"");
  m.vary_request_headers.insert("Accept-Encoding", "gzip, br");
  m.request_time = TimePoint(std::chrono::microseconds(1'700'000'000'123'456));
  m.response_time = TimePoint(std::chrono::microseconds(1'700'000'000'223'456));
  m.body_size = 1'234'567;
  m.body_id = 42;
  return m;
}

std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

std::string fixed(std::uint64_t v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

// Appends the checksum, so a hand-built record reaches the parser.
std::string seal(std::string body) { return body + fixed(crc32(body), 4); }

// A hand-built version 2 record with one header field, its name and value spelled out (name
// code 0, value code twice the length).
std::string record_with_field(std::string_view name, std::string_view value,
                              std::string_view status = "\xC8\x01") {
  std::string r = "\xCE\x02";
  r += status;
  r += varint(1) + varint(0) + varint(name.size()) + std::string(name) +
       varint(value.size() * 2) + std::string(value);
  r += varint(0);                  // vary request headers
  r += fixed(0, 8) + fixed(0, 8);  // times
  r += varint(10) + varint(7);     // body size, body id
  return seal(r);
}

TEST_CASE("crc32 matches the standard check value", "[entry_codec]") {
  REQUIRE(crc32("123456789") == 0xCBF43926u);
  REQUIRE(crc32("") == 0u);
}

TEST_CASE("round trip keeps every field, order and duplicates", "[entry_codec]") {
  const EntryMeta m = sample_meta();
  const std::string encoded = encode_entry_meta(m);
  REQUIRE(static_cast<unsigned char>(encoded[0]) == 0xCE);
  REQUIRE(encoded[1] == 2);  // version
  const std::optional<EntryMeta> decoded = decode_entry_meta(encoded);
  REQUIRE(decoded);
  require_same(*decoded, m);
  // Re-encoding the decoded value gives the same bytes.
  REQUIRE(encode_entry_meta(*decoded) == encoded);
}

TEST_CASE("round trip of a default meta and of extreme values", "[entry_codec]") {
  const std::optional<EntryMeta> empty = decode_entry_meta(encode_entry_meta(EntryMeta{}));
  REQUIRE(empty);
  require_same(*empty, EntryMeta{});

  EntryMeta m;
  m.status = std::numeric_limits<unsigned>::max();
  m.body_size = std::numeric_limits<std::uint64_t>::max();
  m.body_id = std::numeric_limits<std::uint64_t>::max();
  m.request_time = TimePoint(std::chrono::microseconds(-1'000'000));  // before 1970
  m.headers.insert("X-Long", std::string(65533, 'v'));
  const std::optional<EntryMeta> decoded = decode_entry_meta(encode_entry_meta(m));
  REQUIRE(decoded);
  require_same(*decoded, m);
}

TEST_CASE("times are kept to the microsecond", "[entry_codec]") {
  EntryMeta m;
  m.response_time = TimePoint(std::chrono::nanoseconds(1'700'000'000'123'456'789));
  const std::optional<EntryMeta> decoded = decode_entry_meta(encode_entry_meta(m));
  REQUIRE(decoded);
  REQUIRE(decoded->response_time == TimePoint(std::chrono::nanoseconds(1'700'000'000'123'456'000)));
}

TEST_CASE("every truncation and any trailing byte is rejected", "[entry_codec]") {
  const std::string encoded = encode_entry_meta(sample_meta());
  for (std::size_t n = 0; n < encoded.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    REQUIRE_FALSE(decode_entry_meta(std::string_view(encoded).substr(0, n)));
  }
  REQUIRE_FALSE(decode_entry_meta(encoded + '\0'));
  REQUIRE_FALSE(decode_entry_meta(encoded + encoded));
}

TEST_CASE("every single bit flip is rejected", "[entry_codec]") {
  const std::string encoded = encode_entry_meta(sample_meta());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = encoded;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      INFO("byte " << i << " bit " << bit);
      REQUIRE_FALSE(decode_entry_meta(damaged));
    }
  }
}

TEST_CASE("well-checksummed but malformed records are rejected", "[entry_codec]") {
  // The builder itself makes a valid record.
  REQUIRE(decode_entry_meta(record_with_field("X-Num", "5")));

  std::string wrong_magic = record_with_field("X-Num", "5");
  wrong_magic = seal("\xCF" + wrong_magic.substr(1, wrong_magic.size() - 5));
  REQUIRE_FALSE(decode_entry_meta(wrong_magic));
  std::string wrong_version = record_with_field("X-Num", "5");
  wrong_version = seal("\xCE\x01" + wrong_version.substr(2, wrong_version.size() - 6));
  REQUIRE_FALSE(decode_entry_meta(wrong_version));

  // Values cacheproxy::Fields would trim were not written by the encoder.
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", " 5")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", "5\t")));
  // Names that are not tokens (an empty one was found by tests/fuzz) and values that would
  // split a response (RFC 9110 §5.1, §5.5): Beast's parser lets none of them in.
  REQUIRE_FALSE(decode_entry_meta(record_with_field("", "5")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-N um", "5")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num:", "5")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", "5\r\nSet-Cookie: x=1")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", "5\nx")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", std::string("5\0x", 3))));
  REQUIRE(decode_entry_meta(record_with_field("X-Odd_Name.v2~!", "caf\xC3\xA9 \"q\"")));
  // Lengths cacheproxy::Fields cannot hold.
  REQUIRE_FALSE(decode_entry_meta(record_with_field(std::string(65534, 'n'), "v")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X", std::string(65534, 'v'))));
  // A non-minimal varint (200 spelled in three bytes) and a status beyond unsigned.
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", "5", std::string("\xC8\x81\x00", 3))));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", "5", varint(1ull << 40))));
  // An 11-byte varint.
  REQUIRE_FALSE(
      decode_entry_meta(record_with_field("X-Num", "5", std::string(10, '\xFF') + "\x01")));

  // A field count far beyond the bytes present.
  REQUIRE_FALSE(decode_entry_meta(seal("\xCE\x02\xC8\x01" + varint(1ull << 60))));
  // A time Clock::duration cannot hold.
  std::string huge_time = "\xCE\x02\xC8\x01";
  huge_time += varint(0) + varint(0) + fixed(0x7FFFFFFFFFFFFFFFull, 8) + fixed(0, 8);
  huge_time += varint(0) + varint(1);
  REQUIRE_FALSE(decode_entry_meta(seal(huge_time)));
}

TEST_CASE("common names and dates are stored short, and only one way", "[entry_codec]") {
  EntryMeta m;
  m.status = 200;
  m.headers.insert("Date", "Fri, 04 Dec 2026 20:29:01 GMT");
  m.headers.insert("Cache-Control", "max-age=86400");
  m.headers.insert("ETag", "\"0123456789abcdef-2712\"");
  m.headers.insert("Last-Modified", "Fri, 27 Nov 2026 20:29:01 GMT");
  m.headers.insert("Content-Type", "application/octet-stream");
  m.headers.insert("content-length", "2712");  // not the table's spelling: spelled out
  m.headers.insert("Expires", "Sunday, 06-Nov-94 08:49:37 GMT");  // RFC 850: spelled out
  m.headers.insert("X-Date", "Sun, 06 Nov 1994 08:49:37 GMT");    // any name's date is short
  m.headers.insert("X-Late", "Fri, 31 Dec 9999 23:59:59 GMT");    // beyond 2106: spelled out
  m.body_size = 2712;
  m.body_id = 7;
  const std::string encoded = encode_entry_meta(m);
  require_same(*decode_entry_meta(encoded), m);
  // Bytes per field: Date 1 + 5 (a code, a date), Cache-Control 1 + 1 + 13, ETag 1 + 1 + 23,
  // Last-Modified 1 + 5, Content-Type 1 + 1 + 24, content-length 1 + 1 + 14 + 1 + 4,
  // Expires 1 + 1 + 30, X-Date 1 + 1 + 6 + 5, X-Late 1 + 1 + 6 + 1 + 29: 182 in all (version
  // 1 spelled each name and value out with their lengths: 277).
  REQUIRE(encoded.size() == 2 + 2 + 1 + 182 + 1 + 16 + 2 + 1 + 4);

  // Dates only while the number gives back the very same text.
  EntryMeta near;
  near.headers.insert("Last-Modified", "Fri, 4 Dec 2026 20:29:01 GMT");
  near.headers.insert("Expires", "Thu, 04 Dec 2026 20:29:01 GMT");  // wrong weekday
  near.headers.insert("Date", "Fri, 04 dec 2026 20:29:01 GMT");
  const std::string near_encoded = encode_entry_meta(near);
  require_same(*decode_entry_meta(near_encoded), near);
  REQUIRE(near_encoded.size() > 3 * 29);

  // What the encoder never writes: a table name or a short-able date spelled out, a name
  // code past the table, a date number past 2106.
  REQUIRE(decode_entry_meta(record_with_field("X-Num", "5")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("Date", "5")));
  REQUIRE_FALSE(decode_entry_meta(record_with_field("X-Num", "Sun, 06 Nov 1994 08:49:37 GMT")));
  REQUIRE(decode_entry_meta(record_with_field("X-Num", "Sunday, 06-Nov-94 08:49:37 GMT")));
  auto coded = [](std::uint64_t name_code, std::uint64_t value_code) {
    std::string r = "\xCE\x02\xC8\x01";
    r += varint(1) + varint(name_code) + varint(value_code) + varint(0);
    r += fixed(0, 8) + fixed(0, 8) + varint(10) + varint(7);
    return seal(r);
  };
  const std::optional<EntryMeta> date = decode_entry_meta(coded(1, 784'111'777 * 2 + 1));
  REQUIRE(date);
  REQUIRE(field_list(date->headers) == FieldList{{"Date", "Sun, 06 Nov 1994 08:49:37 GMT"}});
  REQUIRE(decode_entry_meta(coded(1, 0xFFFF'FFFFull * 2 + 1)));
  REQUIRE_FALSE(decode_entry_meta(coded(1, 0x1'0000'0000ull * 2 + 1)));
  REQUIRE(decode_entry_meta(coded(40, 0)));  // the table's last name, an empty value
  REQUIRE_FALSE(decode_entry_meta(coded(41, 0)));

  // Every name of the table, inserted as spelled there, is written as its code.
  for (std::uint64_t code = 1; code <= 40; ++code) {
    const std::optional<EntryMeta> named = decode_entry_meta(coded(code, 0));
    REQUIRE(named);
    const std::string name(named->headers.begin()->name_string());
    INFO(name);
    EntryMeta m;
    m.status = 200;
    m.headers.insert(name, "");
    m.body_size = 10;
    m.body_id = 7;
    REQUIRE(encode_entry_meta(m) == coded(code, 0));
  }

  // A version 1 record (names and dates spelled out) is not read as version 2.
  std::string v1 = "\xCE\x01\xC8\x01";
  v1 += varint(1) + varint(5) + "X-Num" + varint(1) + "5" + varint(0);
  v1 += fixed(0, 8) + fixed(0, 8) + varint(10) + varint(7);
  REQUIRE_FALSE(decode_entry_meta(seal(v1)));
}

TEST_CASE("random and mutated input never crashes the decoder", "[entry_codec]") {
  std::mt19937_64 rng(12345);
  const std::string valid = encode_entry_meta(sample_meta());
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      input.resize(rng() % 64);
      for (char& c : input) c = static_cast<char>(rng());
    } else {
      // Mutate the checksummed part and reseal it, so the parser sees the damage.
      input = valid.substr(0, valid.size() - 4);
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        const std::size_t at = rng() % input.size();
        switch (rng() % 3) {
          case 0:
            input[at] = static_cast<char>(rng());
            break;
          case 1:
            input.erase(at, 1 + rng() % 8);
            break;
          default:
            input.insert(at, 1, static_cast<char>(rng()));
            break;
        }
        if (input.empty()) input.assign(1, 'x');
      }
      input = seal(input);
    }
    const std::optional<EntryMeta> decoded = decode_entry_meta(input);
    if (decoded) {
      // Whatever decodes is stable under another round trip.
      const std::optional<EntryMeta> again = decode_entry_meta(encode_entry_meta(*decoded));
      REQUIRE(again);
      require_same(*again, *decoded);
    }
  }
}

}  // namespace
}  // namespace cacheproxy::cache
