#include "proxy/top_hosts.hpp"

#include <algorithm>
#include <cctype>

namespace cacheproxy {

void SpaceSaving::add(std::string_view key, std::uint64_t weight) {
  if (capacity_ == 0 || weight == 0) return;
  auto smallest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key == key) {
      it->count += weight;
      return;
    }
    if (smallest == entries_.end() || it->count < smallest->count) smallest = it;
  }
  if (entries_.size() < capacity_) {
    entries_.push_back(Entry{std::string(key), weight, 0});
    return;
  }
  smallest->key.assign(key);
  smallest->error = smallest->count;
  smallest->count += weight;
}

std::vector<SpaceSaving::Entry> SpaceSaving::top(std::size_t n) const {
  std::vector<Entry> sorted = entries_;
  std::sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.key < b.key;
  });
  if (sorted.size() > n) sorted.resize(n);
  return sorted;
}

void TopHosts::record(std::string_view host, ResultCode code, std::uint64_t bytes_sent) {
  std::uint64_t bytes_saved = 0;
  switch (code) {
    case ResultCode::tcp_hit:
    case ResultCode::tcp_mem_hit:
    case ResultCode::tcp_refresh_unmodified:
    case ResultCode::tcp_refresh_fail_old:  // stale, served from the cache
      bytes_saved = bytes_sent;
      break;
    case ResultCode::tcp_miss:
    case ResultCode::tcp_refresh_modified:
    case ResultCode::tcp_tunnel:
      break;
    case ResultCode::tcp_denied:
    case ResultCode::none:
      return;
  }
  if (host.empty()) return;
  host = host.substr(0, kMaxHostLength);
  std::lock_guard lock(mutex_);
  requests_.add(host, 1);
  bytes_saved_.add(host, bytes_saved);
}

namespace {
// Fills in the other ranking's figure for each host, when that ranking still tracks it.
std::vector<TopHosts::Row> rows(const std::vector<SpaceSaving::Entry>& ranked,
                                const std::vector<SpaceSaving::Entry>& other, bool by_requests) {
  std::vector<TopHosts::Row> out;
  for (const auto& e : ranked) {
    TopHosts::Row row{e.key, 0, 0};
    std::uint64_t other_count = 0;
    for (const auto& o : other)
      if (o.key == e.key) other_count = o.count;
    row.requests = by_requests ? e.count : other_count;
    row.bytes_saved = by_requests ? other_count : e.count;
    out.push_back(std::move(row));
  }
  return out;
}
}  // namespace

std::vector<TopHosts::Row> TopHosts::by_requests(std::size_t n) const {
  std::lock_guard lock(mutex_);
  return rows(requests_.top(n), bytes_saved_.top(kTracked), true);
}

std::vector<TopHosts::Row> TopHosts::by_bytes_saved(std::size_t n) const {
  std::lock_guard lock(mutex_);
  return rows(bytes_saved_.top(n), requests_.top(kTracked), false);
}

namespace {
// ASCII only (host names are case-insensitive in ASCII, RFC 3986 §3.2.2): std::tolower
// consults the locale for every character, on every logged request.
void lower_ascii(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}
}  // namespace

std::string host_of_target(std::string_view target) {
  std::string_view authority = target;
  if (auto scheme = target.find("://"); scheme != std::string_view::npos) {
    authority = target.substr(scheme + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
  } else if (target.find('/') != std::string_view::npos) {
    return {};  // origin-form or something else: not a request for another host
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    host = authority.substr(0, authority.find(']') + 1);  // IPv6 literal keeps its brackets
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
  }
  std::string out(host);
  lower_ascii(out);
  return out;
}

std::string host_key(std::string_view host) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.reserve(host.size() + 2);
    out.append("[").append(host).append("]");
  } else {
    out.assign(host);
  }
  lower_ascii(out);
  return out;
}

}  // namespace cacheproxy
