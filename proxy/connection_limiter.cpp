#include "proxy/connection_limiter.hpp"

namespace cacheproxy {

std::optional<ConnectionLimiter::Ticket> ConnectionLimiter::admit(
    const boost::asio::ip::address& client, Refusal* refusal) {
  std::string key = client.to_string();
  std::lock_guard lock(mutex_);
  if (total_ >= max_total_) {
    *refusal = Refusal::total;
    return std::nullopt;
  }
  std::uint32_t& mine = per_client_[key];
  if (mine >= max_per_client_) {
    if (mine == 0) per_client_.erase(key);
    *refusal = Refusal::per_client;
    return std::nullopt;
  }
  ++mine;
  ++total_;
  *refusal = Refusal::none;
  return Ticket(this, std::move(key));
}

void ConnectionLimiter::set_limits(std::uint32_t max_total, std::uint32_t max_per_client) {
  std::lock_guard lock(mutex_);
  max_total_ = max_total;
  max_per_client_ = max_per_client;
}

std::uint32_t ConnectionLimiter::open() const {
  std::lock_guard lock(mutex_);
  return total_;
}

void ConnectionLimiter::release(const std::string& client) {
  std::lock_guard lock(mutex_);
  --total_;
  auto it = per_client_.find(client);
  if (it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

}  // namespace cacheproxy
