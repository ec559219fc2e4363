// Pure parts of proxy authentication: Basic credentials, htpasswd parsing, hash verification
// through libcrypt, and the result cache.
#include <catch2/catch.hpp>

#include "proxy/proxy_auth.hpp"

using cacheproxy::BasicCredentials;
using cacheproxy::CredentialCache;
using cacheproxy::HashKind;
using cacheproxy::Htpasswd;

namespace {

// Made once with `openssl passwd -6 -salt saltsalt 'correct horse'`, Apache's `htpasswd -nbB
// -C 5 alice 'correct horse'` (an implementation other than libcrypt's) and Python's crypt.
const std::string kSha512 =
    "$6$saltsalt$hRM5XZ86KXEw9UOmjigeVqFgULtFB2sgpC9lXQDfMib3Zgw7mEiUvBJI2EplzfAqxL5Vvwp2scFtv/"
    "uamSo5z0";
const std::string kBcryptApache = "$2y$05$bRMXx0dCX96g6dKb49AcTezUvZlfkCQgOJoZEKbn0fUPxdUgvZzR6";
const std::string kBcrypt2b = "$2b$05$abcdefghijklmnopqrstuuHNbAKRhpaujgo33bRWs.NLUTJO3lOy2";
const std::string kBcryptColons = "$2y$05$abcdefghijklmnopqrstuuMMJyCiSwfHZ7dnNYGBKSYVhBjGNcuAy";

}  // namespace

TEST_CASE("base64 decoding is strict", "[proxy_auth]") {
  using cacheproxy::decode_base64;
  CHECK(decode_base64("") == std::string());
  CHECK(decode_base64("Zm9vOmJhcg==") == std::string("foo:bar"));
  CHECK(decode_base64("Zm9vYg==") == std::string("foob"));
  CHECK(decode_base64("Zm9vYmE=") == std::string("fooba"));
  CHECK(decode_base64("Zm9vYmFy") == std::string("foobar"));
  CHECK_FALSE(decode_base64("Zm9vYmF"));      // length not a multiple of 4
  CHECK_FALSE(decode_base64("Zm9v YmE="));    // space
  CHECK_FALSE(decode_base64("Zm=vYmFy"));     // padding in the middle
  CHECK_FALSE(decode_base64("Zg==Zm9v"));     // padding before the last group
  CHECK_FALSE(decode_base64("Z==="));         // three pads
  CHECK_FALSE(decode_base64("Zm9-YmFy"));     // base64url alphabet
}

TEST_CASE("Basic credentials are read from Proxy-Authorization", "[proxy_auth]") {
  using cacheproxy::parse_basic_credentials;
  auto c = parse_basic_credentials("Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==");  // alice:correct horse
  REQUIRE(c);
  CHECK(c->user == "alice");
  CHECK(c->password == "correct horse");
  // Scheme is case-insensitive; the password may hold colons; it may be empty.
  auto colons = parse_basic_credentials("  bAsIc   Ym9iOmE6YjpjOg==  ");  // bob:a:b:c:
  REQUIRE(colons);
  CHECK(colons->user == "bob");
  CHECK(colons->password == "a:b:c:");
  auto empty = parse_basic_credentials("Basic Ym9iOg==");  // bob:
  REQUIRE(empty);
  CHECK(empty->password.empty());
  CHECK_FALSE(parse_basic_credentials(""));
  CHECK_FALSE(parse_basic_credentials("Basic"));
  CHECK_FALSE(parse_basic_credentials("Bearer YWxpY2U6eA=="));
  CHECK_FALSE(parse_basic_credentials("Basic YWxpY2U="));  // "alice": no colon
  CHECK_FALSE(parse_basic_credentials("Basic !!!!"));
}

TEST_CASE("hash kinds: bcrypt and SHA-512-crypt only", "[proxy_auth]") {
  CHECK(cacheproxy::hash_kind(kSha512) == HashKind::sha512_crypt);
  CHECK(cacheproxy::hash_kind(kBcryptApache) == HashKind::bcrypt);
  CHECK(cacheproxy::hash_kind(kBcrypt2b) == HashKind::bcrypt);
  CHECK(cacheproxy::hash_kind("$apr1$abc$defghijklmnop") == HashKind::unsupported);
  CHECK(cacheproxy::hash_kind("{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=") == HashKind::unsupported);
  CHECK(cacheproxy::hash_kind("plaintext") == HashKind::unsupported);
  CHECK(cacheproxy::hash_kind("$2y$05$short") == HashKind::unsupported);
}

TEST_CASE("passwords verify against bcrypt and SHA-512-crypt hashes", "[proxy_auth]") {
  using cacheproxy::verify_password;
  CHECK(verify_password("correct horse", kSha512));
  CHECK(verify_password("correct horse", kBcryptApache));
  CHECK(verify_password("correct horse", kBcrypt2b));
  CHECK(verify_password("pass:with:colons", kBcryptColons));
  CHECK_FALSE(verify_password("correct horsE", kSha512));
  CHECK_FALSE(verify_password("correct horse ", kBcryptApache));
  CHECK_FALSE(verify_password("", kBcrypt2b));
  CHECK_FALSE(verify_password(std::string("correct horse\0x", 15), kSha512));
  CHECK_FALSE(verify_password("correct horse", "$apr1$abc$defghijklmnop"));
  // A damaged hash of a supported kind never verifies.
  std::string damaged = kSha512;
  damaged.back() = damaged.back() == 'a' ? 'b' : 'a';
  CHECK_FALSE(verify_password("correct horse", damaged));
}

TEST_CASE("htpasswd files parse with clear errors", "[proxy_auth]") {
  std::string error;
  auto file = Htpasswd::parse("# users\n\nalice:" + kBcryptApache + "\r\nbob:" + kSha512 + "\n",
                              &error);
  REQUIRE(file);
  CHECK(file->size() == 2);
  REQUIRE(file->find("alice"));
  CHECK(*file->find("alice") == kBcryptApache);
  CHECK(file->find("carol") == nullptr);
  CHECK(cacheproxy::verify_credentials(*file, {"bob", "correct horse"}));
  CHECK_FALSE(cacheproxy::verify_credentials(*file, {"bob", "wrong"}));
  CHECK_FALSE(cacheproxy::verify_credentials(*file, {"carol", "correct horse"}));

  CHECK_FALSE(Htpasswd::parse("alice:$apr1$x$abcdefghijklmnopqrstuv\n", &error));
  CHECK(error.find("line 1") != std::string::npos);
  CHECK(error.find("unsupported") != std::string::npos);
  CHECK(error.find("$apr1$") == std::string::npos);  // the hash is never echoed
  CHECK_FALSE(Htpasswd::parse("alice:" + kSha512 + "\nnocolon\n", &error));
  CHECK(error.find("line 2") != std::string::npos);
  CHECK_FALSE(Htpasswd::parse("alice:" + kSha512 + "\nalice:" + kSha512 + "\n", &error));
  CHECK(error.find("twice") != std::string::npos);
  CHECK_FALSE(Htpasswd::parse("# nobody\n", &error));
  CHECK_FALSE(Htpasswd::load("/nonexistent/htpasswd", &error));
  CHECK(error.find("/nonexistent/htpasswd") != std::string::npos);
}

TEST_CASE("the credential cache remembers results until they expire", "[proxy_auth]") {
  using namespace std::chrono_literals;
  CredentialCache cache(60s, 3);
  auto t0 = CredentialCache::Clock::time_point{} + 1h;
  BasicCredentials alice{"alice", "pw"};
  BasicCredentials wrong{"alice", "pw2"};
  CHECK_FALSE(cache.find(alice, t0));
  cache.insert(alice, true, t0);
  cache.insert(wrong, false, t0);
  CHECK(cache.find(alice, t0 + 59s) == true);
  CHECK(cache.find(wrong, t0 + 59s) == false);
  CHECK_FALSE(cache.find(alice, t0 + 60s));
  // "a:b" + "c" and "a" + "b:c" must not share an entry (user names hold no colon, RFC 7617).
  CHECK_FALSE(cache.find({"alice:pw", ""}, t0));
  // Bounded: a full cache drops expired entries first, then everything.
  cache.insert({"bob", "x"}, true, t0 + 30s);
  CHECK(cache.size() == 3);
  cache.insert({"carol", "y"}, true, t0 + 61s);  // alice's two have expired by now
  CHECK(cache.size() == 2);
  CHECK(cache.find({"bob", "x"}, t0 + 61s) == true);
  cache.insert({"dave", "z"}, true, t0 + 62s);
  cache.insert({"erin", "w"}, true, t0 + 62s);  // full, nothing expired: cleared
  CHECK(cache.size() == 1);
  CHECK(cache.find({"erin", "w"}, t0 + 62s) == true);
}
