#include "cache/entry_codec.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

#include "cache/cache_control.hpp"
#include "cache/header_fields.hpp"

namespace cacheproxy::cache {
namespace {

constexpr unsigned char kMagic = 0xCE;
constexpr unsigned char kVersion = 2;
constexpr std::size_t kChecksumBytes = 4;
// Fields stores name and value lengths (plus two bytes) in 16 bits and throws
// std::length_error beyond that; the decoder refuses such lengths instead.
constexpr std::size_t kMaxFieldPart = std::numeric_limits<std::uint16_t>::max() - 2;

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_fixed(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// Field names stored as their index in this table (plus one) when spelled exactly so. Never
// reorder or remove entries: stored records refer to them by position; add at the end only.
constexpr std::array<std::string_view, 40> kKnownNames = {
    "Date", "Cache-Control", "ETag", "Last-Modified", "Content-Type", "Content-Length",
    "Expires", "Vary", "Age", "Server", "Content-Encoding", "Accept-Ranges",
    "Content-Language", "Content-Location", "Content-Range", "Content-Disposition",
    "Location", "Set-Cookie", "Pragma", "Access-Control-Allow-Origin",
    "Strict-Transport-Security", "X-Content-Type-Options", "Link", "Via", "Warning",
    "Alt-Svc", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy", "Retry-After",
    "WWW-Authenticate", "Accept", "Accept-Encoding", "Accept-Language", "User-Agent",
    "Cookie", "Authorization", "Origin", "Transfer-Encoding", "Keep-Alive"};

// 0 if name is not in kKnownNames (spelled exactly), else its index plus one.
std::uint64_t known_name_code(std::string_view name) {
  const auto it = std::find(kKnownNames.begin(), kKnownNames.end(), name);
  return it == kKnownNames.end() ? 0 : static_cast<std::uint64_t>(it - kKnownNames.begin()) + 1;
}

// Dates up to 2106-02-07T06:28:15Z are stored as numbers, later ones spelled out: well
// inside what Clock's nanoseconds hold (2262).
constexpr std::uint64_t kMaxDateSeconds = 0xFFFF'FFFF;

// The seconds since the epoch of value if it is exactly the IMF-fixdate format_http_date
// writes for them (so the value can be stored as the number and written back identically).
std::optional<std::uint64_t> compact_date(std::string_view value) {
  const std::optional<std::int64_t> secs = canonical_fixdate_seconds(value);
  if (!secs || *secs < 0 || static_cast<std::uint64_t>(*secs) > kMaxDateSeconds)
    return std::nullopt;
  return static_cast<std::uint64_t>(*secs);
}

void put_fields(std::string& out, const Fields& fields) {
  std::uint64_t count = 0;
  for (auto it = fields.begin(); it != fields.end(); ++it) ++count;
  put_varint(out, count);
  for (const auto& f : fields) {
    const std::uint64_t code = known_name_code(f.name_string());
    put_varint(out, code);
    if (code == 0) put_bytes(out, f.name_string());
    if (const std::optional<std::uint64_t> date = compact_date(f.value())) {
      put_varint(out, *date * 2 + 1);
    } else {
      put_varint(out, f.value().size() * 2);
      out.append(f.value());
    }
  }
}

std::int64_t to_micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

// Reads from a bounded buffer; every getter returns false instead of reading past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool done() const { return pos_ == data_.size(); }
  std::size_t remaining() const { return data_.size() - pos_; }

  bool get_byte(unsigned char* b) {
    if (pos_ >= data_.size()) return false;
    *b = static_cast<unsigned char>(data_[pos_++]);
    return true;
  }

  // Only the minimal encoding of each value is accepted, so every record has one spelling.
  bool get_varint(std::uint64_t* v) {
    std::uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      unsigned char b;
      if (!get_byte(&b)) return false;
      if (shift == 63 && b > 1) return false;  // would overflow 64 bits
      result |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift > 0) return false;  // non-minimal
        *v = result;
        return true;
      }
    }
    return false;
  }

  bool get_fixed(int bytes, std::uint64_t* v) {
    if (remaining() < static_cast<std::size_t>(bytes)) return false;
    std::uint64_t result = 0;
    for (int i = 0; i < bytes; ++i)
      result |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += bytes;
    *v = result;
    return true;
  }

  bool get_bytes(std::size_t max_size, std::string_view* s) {
    std::uint64_t n;
    return get_varint(&n) && get_raw(n, max_size, s);
  }

  // The next n bytes, if n <= max_size and they are there.
  bool get_raw(std::uint64_t n, std::size_t max_size, std::string_view* s) {
    if (n > max_size || n > remaining()) return false;
    *s = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

bool is_ows(char c) { return c == ' ' || c == '\t'; }

// RFC 9110 §5.1: a field name is a token. (An empty name also confuses Fields, which
// then iterates a different list than was inserted: found by tests/fuzz.)
bool is_token(std::string_view s) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  if (s.empty()) return false;
  for (char c : s) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && specials.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// RFC 9110 §5.5: CR, LF and NUL never occur in a field value. One read back from the store
// would split the response it is served in.
bool is_field_value(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool get_fields(Reader& in, Fields* fields) {
  std::uint64_t count;
  if (!in.get_varint(&count)) return false;
  // Each field takes at least two bytes (a name code, a value length): bounds the loop up front.
  if (count > in.remaining() / 2) return false;
  std::string_view previous_name;
  std::string date;  // a compact date's value, alive until fields->insert copies it
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string_view name, value;
    std::uint64_t name_code, value_code;
    if (!in.get_varint(&name_code) || name_code > kKnownNames.size()) return false;
    if (name_code > 0) {
      name = kKnownNames[name_code - 1];
    } else if (!in.get_bytes(kMaxFieldPart, &name) || known_name_code(name) != 0) {
      return false;  // a known name spelled out is not what the encoder writes
    }
    if (!in.get_varint(&value_code)) return false;
    if (value_code % 2 == 1) {
      if (value_code / 2 > kMaxDateSeconds) return false;
      date = format_http_date(TimePoint(std::chrono::seconds(value_code / 2)));
      value = date;
    } else if (!in.get_raw(value_code / 2, kMaxFieldPart, &value) || compact_date(value)) {
      return false;  // likewise a date the encoder would have stored as a number
    }
    // Fields keeps fields of one name together, so the encoder writes a repeated name
    // right after its previous line; a record that repeats a name elsewhere would decode into
    // another order than it was written in (found by tests/fuzz).
    if (!boost::beast::iequals(name, previous_name) && fields->count(name) > 0) return false;
    previous_name = name;
    // Fields trims optional whitespace from values; a value it would change was not
    // written by encode_entry_meta.
    if (!value.empty() && (is_ows(value.front()) || is_ows(value.back()))) return false;
    // Beast's parser accepts neither, so the encoder never wrote them.
    if (!is_token(name) || !is_field_value(value)) return false;
    fields->insert(name, value);
  }
  return true;
}

bool get_time(Reader& in, TimePoint* t) {
  using std::chrono::microseconds;
  std::uint64_t raw;
  if (!in.get_fixed(8, &raw)) return false;
  const auto us = static_cast<std::int64_t>(raw);
  // Refuse times Clock::duration cannot hold rather than overflow converting them.
  constexpr auto kMax = std::chrono::duration_cast<microseconds>(Clock::duration::max()).count();
  constexpr auto kMin = std::chrono::duration_cast<microseconds>(Clock::duration::min()).count();
  if (us > kMax || us < kMin) return false;
  *t = TimePoint(std::chrono::duration_cast<Clock::duration>(microseconds(us)));
  return true;
}

}  // namespace

std::uint32_t crc32(std::string_view data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : data) c = kCrcTable[(c ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string encode_entry_meta(const EntryMeta& meta) {
  // Room for the longest encoding (every name and value spelled out), so the record is one
  // allocation rather than a string grown several times.
  auto spelled_out = [](const Fields& fields) {
    std::size_t bytes = 0;
    for (const auto& f : fields) bytes += 20 + f.name_string().size() + f.value().size();
    return bytes;
  };
  std::string out;
  out.reserve(64 + spelled_out(meta.headers) + spelled_out(meta.vary_request_headers));
  out.push_back(static_cast<char>(kMagic));
  out.push_back(static_cast<char>(kVersion));
  put_varint(out, meta.status);
  put_fields(out, meta.headers);
  put_fields(out, meta.vary_request_headers);
  put_fixed(out, static_cast<std::uint64_t>(to_micros(meta.request_time)), 8);
  put_fixed(out, static_cast<std::uint64_t>(to_micros(meta.response_time)), 8);
  put_varint(out, meta.body_size);
  put_varint(out, meta.body_id);
  put_fixed(out, crc32(out), kChecksumBytes);
  return out;
}

std::optional<EntryMeta> decode_entry_meta(std::string_view data) {
  if (data.size() < 2 + kChecksumBytes) return std::nullopt;
  const std::string_view body = data.substr(0, data.size() - kChecksumBytes);
  Reader tail(data.substr(body.size()));
  std::uint64_t stored_crc;
  if (!tail.get_fixed(kChecksumBytes, &stored_crc) || stored_crc != crc32(body))
    return std::nullopt;

  Reader in(body);
  unsigned char magic, version;
  if (!in.get_byte(&magic) || magic != kMagic) return std::nullopt;
  if (!in.get_byte(&version) || version != kVersion) return std::nullopt;

  EntryMeta meta;
  std::uint64_t status;
  if (!in.get_varint(&status) || status > std::numeric_limits<unsigned>::max()) return std::nullopt;
  meta.status = static_cast<unsigned>(status);
  if (!get_fields(in, &meta.headers)) return std::nullopt;
  if (!get_fields(in, &meta.vary_request_headers)) return std::nullopt;
  if (!get_time(in, &meta.request_time)) return std::nullopt;
  if (!get_time(in, &meta.response_time)) return std::nullopt;
  if (!in.get_varint(&meta.body_size)) return std::nullopt;
  if (!in.get_varint(&meta.body_id)) return std::nullopt;
  if (!in.done()) return std::nullopt;  // trailing bytes inside the checksummed part
  return meta;
}

}  // namespace cacheproxy::cache
