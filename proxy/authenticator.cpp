#include "proxy/authenticator.hpp"

#include <fmt/format.h>

#include "proxy/offload.hpp"

namespace cacheproxy {

namespace {
// Distinct credential pairs remembered at once; a LAN has far fewer users than this.
constexpr std::size_t kCredentialCacheCapacity = 4096;
}  // namespace

Authenticator::Authenticator(Htpasswd users, std::string realm,
                             std::chrono::milliseconds cache_ttl)
    : users_(std::move(users)),
      realm_(std::move(realm)),
      cache_(cache_ttl, kCredentialCacheCapacity) {}

// Lets verifications already queued finish (each is bounded), so every awaiting session's
// completion is delivered while its io_context still exists.
Authenticator::~Authenticator() { pool_.join(); }

boost::asio::awaitable<Authenticator::Result> Authenticator::check(std::string field_value) {
  std::optional<BasicCredentials> credentials = parse_basic_credentials(field_value);
  if (!credentials) co_return Result{};
  bool valid = false;
  if (auto cached = cache_.find(*credentials, CredentialCache::Clock::now())) {
    valid = *cached;
  } else {
    // By reference only: the pair lives in this frame until the call is done, and Asio's
    // coroutine lambdas with non-trivial captures are miscompiled by GCC 12 (double free).
    const BasicCredentials& c = *credentials;
    auto verify = [this, &c] {
      // Requests that queued behind a verification of the same pair find its result here.
      if (auto again = cache_.find(c, CredentialCache::Clock::now())) return *again;
      bool ok = verify_credentials(users_, c);
      cache_.insert(c, ok, CredentialCache::Clock::now());
      return ok;
    };
    // Named, not a temporary: GCC 12 mishandles temporaries in co_await expressions.
    valid = co_await run_blocking(pool_, std::move(verify));
  }
  Result result;
  result.ok = valid;
  if (valid) result.user = credentials->user;
  co_return result;
}

std::string Authenticator::challenge() const {
  // A realm is a quoted-string (RFC 9110 §11.2): quotes and backslashes escaped.
  std::string quoted;
  for (char c : realm_) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return fmt::format("Basic realm=\"{}\", charset=\"UTF-8\"", quoted);
}

}  // namespace cacheproxy
