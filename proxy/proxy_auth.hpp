// Pure parts of proxy authentication (RFC 9110 §11.7, Basic scheme of RFC 7617): reading
// `Proxy-Authorization: Basic ...`, the htpasswd file, password hash verification through
// libcrypt, and a small cache of verification results so bcrypt does not run per request.
// The asynchronous wrapper that runs verification off the network threads is
// proxy/authenticator.*.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cacheproxy {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// Strict base64 (RFC 4648 §4, with padding); nullopt on any other character or bad length.
std::optional<std::string> decode_base64(std::string_view text);

// The credentials of a `Proxy-Authorization` value "Basic <base64(user:password)>" (scheme
// case-insensitive, RFC 7617 §2). nullopt for another scheme, bad base64 or no colon.
std::optional<BasicCredentials> parse_basic_credentials(std::string_view field_value);

// The hash formats accepted in the htpasswd file: those libcrypt verifies and that are not
// trivially brute-forced. Apache's $apr1$ (MD5) and {SHA} are refused at load time.
enum class HashKind { bcrypt, sha512_crypt, unsupported };
HashKind hash_kind(std::string_view hash);

// An htpasswd file: one `user:hash` per line; blank lines and lines starting with '#' skipped.
class Htpasswd {
 public:
  // Parses file text. On a malformed line or an unsupported hash returns nullopt and sets
  // *error to a message naming the line (never its hash).
  static std::optional<Htpasswd> parse(std::string_view text, std::string* error);
  // Reads and parses a file; the error names the path.
  static std::optional<Htpasswd> load(const std::string& path, std::string* error);

  // The stored hash for user, or nullptr.
  const std::string* find(std::string_view user) const;
  std::size_t size() const { return users_.size(); }
  // A hash to verify against for unknown users, so a miss takes as long as a wrong password.
  const std::string& decoy_hash() const { return users_.begin()->second; }

 private:
  std::map<std::string, std::string, std::less<>> users_;
};

// True if password hashes to `hash` (crypt_rn with the hash as setting, then a constant-time
// comparison). False for unsupported or malformed hashes.
bool verify_password(std::string_view password, const std::string& hash);

// True if credentials name a user of the file whose hash matches the password. Runs one slow
// hash computation either way (against a decoy for unknown users).
bool verify_credentials(const Htpasswd& users, const BasicCredentials& credentials);

// Recent verification results keyed by the exact `user:password` pair, so repeated requests
// skip the slow hash. Bounded: past `capacity` entries, expired ones are dropped, then all.
// Thread-safe. Time is passed in.
class CredentialCache {
 public:
  using Clock = std::chrono::steady_clock;
  CredentialCache(std::chrono::milliseconds ttl, std::size_t capacity)
      : ttl_(ttl), capacity_(capacity) {}

  std::optional<bool> find(const BasicCredentials& credentials, Clock::time_point now) const;
  void insert(const BasicCredentials& credentials, bool valid, Clock::time_point now);
  std::size_t size() const;

 private:
  struct Entry {
    bool valid;
    Clock::time_point expires;
  };
  static std::string key(const BasicCredentials& credentials);

  std::chrono::milliseconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace cacheproxy
