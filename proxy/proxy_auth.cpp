#include "proxy/proxy_auth.hpp"

#include <crypt.h>
#include <fmt/format.h>

#include <array>
#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>

namespace cacheproxy {

namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<signed char, 256> make_base64_table() {
  std::array<signed char, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < kBase64Alphabet.size(); ++i)
    table[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<signed char>(i);
  return table;
}
constexpr auto kBase64Table = make_base64_table();

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Compares without an early exit, so the time taken does not tell how many bytes matched.
bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    std::array<int, 4> v{};
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        ++padding;
        v[j] = 0;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after '='
      v[j] = kBase64Table[static_cast<unsigned char>(c)];
      if (v[j] < 0) return std::nullopt;
    }
    unsigned triple = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                      (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out.push_back(static_cast<char>((triple >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((triple >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(triple & 0xff));
  }
  return out;
}

std::optional<BasicCredentials> parse_basic_credentials(std::string_view field_value) {
  std::string_view value = trim(field_value);
  std::size_t space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  if (!iequals(value.substr(0, space), "basic")) return std::nullopt;
  std::optional<std::string> decoded = decode_base64(trim(value.substr(space + 1)));
  if (!decoded) return std::nullopt;
  // RFC 7617 §2: the user-id cannot contain a colon; the password may.
  std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

HashKind hash_kind(std::string_view hash) {
  // bcrypt: $2a$ / $2b$ / $2y$ (the PHP and Apache spellings of the same fixed algorithm).
  if (hash.size() == 60 &&
      (hash.starts_with("$2b$") || hash.starts_with("$2y$") || hash.starts_with("$2a$")))
    return HashKind::bcrypt;
  if (hash.starts_with("$6$")) return HashKind::sha512_crypt;
  return HashKind::unsupported;
}

std::optional<Htpasswd> Htpasswd::parse(std::string_view text, std::string* error) {
  Htpasswd file;
  std::size_t line_number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *error = fmt::format("line {}: expected user:hash", line_number);
      return std::nullopt;
    }
    std::string_view user = line.substr(0, colon);
    std::string_view hash = line.substr(colon + 1);
    if (hash_kind(hash) == HashKind::unsupported) {
      *error = fmt::format(
          "line {}: user '{}' has an unsupported hash; use bcrypt (htpasswd -B) or "
          "SHA-512-crypt (openssl passwd -6)",
          line_number, user);
      return std::nullopt;
    }
    if (!file.users_.emplace(std::string(user), std::string(hash)).second) {
      *error = fmt::format("line {}: user '{}' appears twice", line_number, user);
      return std::nullopt;
    }
  }
  if (file.users_.empty()) {
    *error = "no users";
    return std::nullopt;
  }
  return file;
}

std::optional<Htpasswd> Htpasswd::load(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = fmt::format("cannot read '{}'", path);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string detail;
  auto file = parse(text.str(), &detail);
  if (!file) *error = fmt::format("'{}': {}", path, detail);
  return file;
}

const std::string* Htpasswd::find(std::string_view user) const {
  auto it = users_.find(user);
  return it == users_.end() ? nullptr : &it->second;
}

bool verify_password(std::string_view password, const std::string& hash) {
  if (hash_kind(hash) == HashKind::unsupported) return false;
  // crypt takes C strings: a password with a NUL byte cannot be what was hashed.
  if (password.find('\0') != std::string_view::npos) return false;
  std::string phrase(password);
  // crypt_data is about 32 KiB: on the heap, not on a pool thread's stack.
  auto data = std::make_unique<crypt_data>();
  const char* computed = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (computed == nullptr) return false;
  return constant_time_equal(computed, hash);
}

bool verify_credentials(const Htpasswd& users, const BasicCredentials& credentials) {
  const std::string* hash = users.find(credentials.user);
  if (hash == nullptr) {
    verify_password(credentials.password, users.decoy_hash());
    return false;
  }
  return verify_password(credentials.password, *hash);
}

std::string CredentialCache::key(const BasicCredentials& credentials) {
  // The user name holds no colon (RFC 7617), so "user:password" is unambiguous.
  return credentials.user + ':' + credentials.password;
}

std::optional<bool> CredentialCache::find(const BasicCredentials& credentials,
                                          Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key(credentials));
  if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.valid;
}

void CredentialCache::insert(const BasicCredentials& credentials, bool valid,
                             Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_) {
    std::erase_if(entries_, [&](const auto& item) { return item.second.expires <= now; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_[key(credentials)] = Entry{valid, now + ttl_};
}

std::size_t CredentialCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace cacheproxy
