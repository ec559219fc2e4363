// Proxy authentication for the sessions: checks a request's Proxy-Authorization against the
// htpasswd users, remembering results for `auth_cache_ttl`. The slow hash (bcrypt is meant to
// take tens of milliseconds) runs on a thread of its own, never on a network thread, and a
// flood of guesses queues there instead of slowing the cache's store threads.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <string>

#include "proxy/proxy_auth.hpp"

namespace cacheproxy {

class Authenticator {
 public:
  Authenticator(Htpasswd users, std::string realm, std::chrono::milliseconds cache_ttl);
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  struct Result {
    bool ok = false;
    std::string user;  // the authenticated user; empty unless ok
  };

  // `field_value` is the request's Proxy-Authorization value, empty if it had none. Resumes
  // on the caller's executor.
  boost::asio::awaitable<Result> check(std::string field_value);

  // The Proxy-Authenticate value of a 407 (RFC 7617 §2).
  std::string challenge() const;

 private:
  Htpasswd users_;
  std::string realm_;
  CredentialCache cache_;
  boost::asio::thread_pool pool_{1};
};

}  // namespace cacheproxy
