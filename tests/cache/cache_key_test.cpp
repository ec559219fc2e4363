#include "cache/cache_key.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "support/generated_urls.hpp"

using cacheproxy::cache::normalize_cache_key;
using cacheproxy::cache::normalize_parsed;

namespace {

struct KeyRow {
  std::string url;
  std::string key;
};

}  // namespace

TEST_CASE("normalize_cache_key produces one key per resource", "[cache_key]") {
  static const std::vector<KeyRow> rows{
      {"http://example.com", "http://example.com/"},
      {"http://example.com/", "http://example.com/"},
      {"HTTP://Example.COM:80/a/./b/../c?x=1#frag", "http://example.com/a/c?x=1"},
      {"https://x.org:443", "https://x.org/"},
      {"HTTPS://X.ORG:443/p", "https://x.org/p"},
      // A default port belongs to its own scheme only.
      {"https://x.org:80/", "https://x.org:80/"},
      {"http://x.org:443/", "http://x.org:443/"},
      {"http://x.org:8080/p", "http://x.org:8080/p"},
      {"http://x.org:080/", "http://x.org/"},
      {"http://x.org:08080/", "http://x.org:8080/"},
      {"http://x.org:/p", "http://x.org/p"},
      // Unreserved characters decoded, other triplets upper-cased, reserved ones kept.
      {"http://x.org/%7euser/%41%2f%2Fb", "http://x.org/~user/A%2F%2Fb"},
      {"http://x.org/p?q=%3a%7E&r=%2b", "http://x.org/p?q=%3A~&r=%2B"},
      {"http://x.org/a%20b", "http://x.org/a%20b"},
      {"http://%41.com/", "http://a.com/"},
      // Dot segments, including encoded ones.
      {"http://x.org/a/%2E%2E/b", "http://x.org/b"},
      {"http://x.org/a/b/../../../c", "http://x.org/c"},
      {"http://x.org/a/./b/.", "http://x.org/a/b/"},
      {"http://x.org/a/..", "http://x.org/"},
      {"http://x.org/a/b/..", "http://x.org/a/"},
      {"http://x.org/a..b/.c", "http://x.org/a..b/.c"},
      // The query is kept as is (an empty one too); the fragment goes.
      {"http://x.org/?", "http://x.org/?"},
      {"http://x.org/p?b=2&a=1", "http://x.org/p?b=2&a=1"},
      {"http://x.org/p#", "http://x.org/p"},
      {"http://x.org/p?q#f?g", "http://x.org/p?q"},
      // Userinfo never reaches the origin: not part of the key.
      {"http://user:pw@X.org/", "http://x.org/"},
      {"http://[::1]:8080/", "http://[::1]:8080/"},
      {"http://[2001:DB8::1]/", "http://[2001:db8::1]/"},
      {"http://127.0.0.1:80/x", "http://127.0.0.1/x"},
  };
  const KeyRow row = GENERATE(from_range(rows));
  CAPTURE(row.url);
  const auto key = normalize_cache_key(row.url);
  REQUIRE(key.has_value());
  CHECK(*key == row.key);
  // Normalization is idempotent.
  CHECK(normalize_cache_key(*key) == key);
}

TEST_CASE("normalize_cache_key rejects what is not an absolute http(s) URL", "[cache_key]") {
  const std::string url = GENERATE(
      as<std::string>{}, "", "ftp://x.org/", "mailto:a@b.c", "file:///etc/passwd", "http:///path",
      "http:/path", "https://", "/relative/path", "x.org/path", "//x.org/p", "http://x.org:99999/",
      "http://x.org:65536/", "http://x.org:0/", "http://a b/", "http://x.org:8o/",
      "http://x.org:8o", "http://u@x.org:80abc/p", "http://x.org/%zz");
  CAPTURE(url);
  CHECK_FALSE(normalize_cache_key(url).has_value());
}

TEST_CASE("different resources get different keys", "[cache_key]") {
  const auto pair = GENERATE(table<std::string, std::string>({
      {"http://x.org/a", "https://x.org/a"},
      {"http://x.org/a", "http://x.org:8080/a"},
      {"http://x.org/a", "http://x.org/A"},
      {"http://x.org/a/b", "http://x.org/a%2Fb"},
      {"http://x.org/p", "http://x.org/p?"},
      {"http://x.org/p?a=1", "http://x.org/p?A=1"},
  }));
  CAPTURE(std::get<0>(pair), std::get<1>(pair));
  const auto a = normalize_cache_key(std::get<0>(pair));
  const auto b = normalize_cache_key(std::get<1>(pair));
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(*a != *b);
}

TEST_CASE("normalize_cache_key answers repeats and colliding URLs alike", "[cache_key]") {
  // More URLs than the per-thread memo has slots, twice over: every answer must be the one
  // for its own URL, whether it was remembered, evicted by a collision or never kept.
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < 1000; ++i) {
      std::string url = "http://Example.COM:80/a/../p" + std::to_string(i) + "?q=%7e";
      CHECK(normalize_cache_key(url) == "http://example.com/p" + std::to_string(i) + "?q=~");
    }
    CHECK_FALSE(normalize_cache_key("ftp://example.com/p1"));
    const std::string long_path(400, 'x');
    CHECK(normalize_cache_key("http://example.com/" + long_path) ==
          "http://example.com/" + long_path);
  }
}

TEST_CASE("a URL taken as already normal gets the key the parser gives it", "[cache_key]") {
  // URLs near the edges of the shortcut (is_normal_url): each must get the same answer, key
  // or refusal, with and without it.
  const cacheproxy::testing::UrlPieces pieces{
      .starts = {"http://", "https://", "HTTP://", "http:/", "ftp://"},
      .hosts = {"x.org", "X.org", "a-b.c", "127.0.0.1", "", "a_b", "[::1]", "u@x.org",
                "x%41.org", "-", ".."},
      .ports = {"", ":80", ":443", ":8080", ":08080", ":0", ":65535", ":65536", ":", ":123456",
                ":8o"},
      .plain = {"/", "a", "Z", "09", "-", "_", "~", "'", "(", "!", "$", "*", "+", ",", ";", "=",
                ":", "@", "?", "/.x", "/a.b"},
      .special = {".", "..", "/.", "/..", "%7e", "%2F", "%", "%zz", "#", " ", "\"", "<", "{",
                  "|", "^", "`", "\\", "\x80"},
  };
  int normal = 0;
  for (const std::string& url :
       cacheproxy::testing::generated_urls(pieces, 20000, 88172645463325252u)) {
    CAPTURE(url);
    const auto key = normalize_cache_key(url);
    REQUIRE(key == normalize_parsed(url));
    if (key == url) ++normal;
  }
  CHECK(normal > 1000);  // URLs that are their own key, where the shortcut applies, were many
}
