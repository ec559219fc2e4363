#include "proxy/dns_cache.hpp"

#include <fmt/format.h>

namespace cacheproxy {

namespace {

std::string cache_key(const std::string& host, std::uint16_t port) {
  return fmt::format("{}:{}", host, port);
}

}  // namespace

DnsCache::Answer DnsCache::find(const std::string& host, std::uint16_t port,
                                Clock::time_point now) {
  auto it = entries_.find(cache_key(host, port));
  if (it == entries_.end()) return {};
  if (it->second.expires <= now) {
    entries_.erase(it);
    return {};
  }
  return Answer{true, it->second.endpoints.empty(), it->second.endpoints};
}

void DnsCache::remember(const std::string& host, std::uint16_t port, Endpoints endpoints,
                        Clock::time_point expires) {
  make_room(Clock::now());
  entries_.insert_or_assign(cache_key(host, port), Entry{std::move(endpoints), expires});
}

void DnsCache::remember_missing(const std::string& host, std::uint16_t port,
                                Clock::time_point expires) {
  make_room(Clock::now());
  entries_.insert_or_assign(cache_key(host, port), Entry{Endpoints(), expires});
}

void DnsCache::make_room(Clock::time_point now) {
  if (entries_.size() < kMaxEntries) return;
  std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
  // Still full of live names: start over rather than track recency for a rare case.
  if (entries_.size() >= kMaxEntries) entries_.clear();
}

std::optional<boost::asio::ip::tcp::endpoint> literal_endpoint(const std::string& host,
                                                               std::uint16_t port) {
  boost::system::error_code ec;
  boost::asio::ip::address address = boost::asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  return boost::asio::ip::tcp::endpoint(address, port);
}

}  // namespace cacheproxy
