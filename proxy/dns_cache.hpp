// Resolved origin addresses, kept for a while so a new connection to a known host needs no
// resolver call (Asio runs getaddrinfo on a thread of its own: a thread hop and, for a real
// name, a DNS query, per connection).
//
// getaddrinfo does not report the records' TTLs, so entries live for the configured
// positive_dns_ttl (Squid's name; Squid uses it as the upper bound of a record's TTL) and a
// name that does not exist is remembered for negative_dns_ttl. Other failures (a timeout, a
// resolver error) are not remembered. One cache per network thread, so it needs no lock.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

namespace cacheproxy {

class DnsCache {
 public:
  using Clock = std::chrono::steady_clock;
  using Endpoints = boost::asio::ip::tcp::resolver::results_type;

  // At most this many names are kept; past it, expired ones go, then all of them.
  static constexpr std::size_t kMaxEntries = 4096;

  struct Answer {
    bool found = false;   // a fresh entry exists
    bool negative = false;  // ...and it says the name does not exist
    Endpoints endpoints;
  };

  // A fresh entry for host:port, if any.
  Answer find(const std::string& host, std::uint16_t port, Clock::time_point now);
  void remember(const std::string& host, std::uint16_t port, Endpoints endpoints,
                Clock::time_point expires);
  void remember_missing(const std::string& host, std::uint16_t port, Clock::time_point expires);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Endpoints endpoints;  // empty for a name that does not exist
    Clock::time_point expires;
  };
  void make_room(Clock::time_point now);

  std::unordered_map<std::string, Entry> entries_;
};

// An IP literal needs no resolver: its endpoint, or nullopt for a name.
std::optional<boost::asio::ip::tcp::endpoint> literal_endpoint(const std::string& host,
                                                               std::uint16_t port);

}  // namespace cacheproxy
