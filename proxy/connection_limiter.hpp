// Caps on concurrent client connections, in total and per client address, so one client (or
// a flood) cannot take every socket. Thread-safe; a Ticket holds one admitted connection.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cacheproxy {

class ConnectionLimiter {
 public:
  ConnectionLimiter(std::uint32_t max_total, std::uint32_t max_per_client)
      : max_total_(max_total), max_per_client_(max_per_client) {}

  class Ticket {
   public:
    Ticket(ConnectionLimiter* limiter, std::string client)
        : limiter_(limiter), client_(std::move(client)) {}
    Ticket(Ticket&& other) noexcept
        : limiter_(std::exchange(other.limiter_, nullptr)), client_(std::move(other.client_)) {}
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (limiter_) limiter_->release(client_);
    }

   private:
    ConnectionLimiter* limiter_;
    std::string client_;
  };

  enum class Refusal { none, total, per_client };

  // A ticket if the connection fits both caps; otherwise which cap it hit.
  std::optional<Ticket> admit(const boost::asio::ip::address& client, Refusal* refusal);

  std::uint32_t open() const;
  // New caps (a config reload): connections already admitted stay, new ones are checked.
  void set_limits(std::uint32_t max_total, std::uint32_t max_per_client);

 private:
  void release(const std::string& client);

  mutable std::mutex mutex_;
  std::uint32_t max_total_;       // guarded by mutex_
  std::uint32_t max_per_client_;  // guarded by mutex_
  std::uint32_t total_ = 0;
  std::unordered_map<std::string, std::uint32_t> per_client_;
};

}  // namespace cacheproxy
