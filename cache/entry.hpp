// A stored HTTP response: its metadata and where its body lives.
#pragma once

#include <boost/beast/http/fields.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "cache/header_fields.hpp"

namespace cacheproxy::cache {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Seconds = std::chrono::seconds;

namespace http = boost::beast::http;

// Everything about a stored response except its body.
struct EntryMeta {
  unsigned status = 0;
  // Response header fields as received, minus hop-by-hop fields (RFC 9111 §3.1).
  Fields headers;
  // The request header fields named by the response's Vary (RFC 9111 §4.1), kept so a
  // later request can be matched against them. Empty when the response has no Vary.
  Fields vary_request_headers;
  TimePoint request_time{};   // when the request that produced this response was sent
  TimePoint response_time{};  // when the response header was received
  std::uint64_t body_size = 0;
  // Identifies one stored body: a replacement gets a new id, so readers of an old body
  // never see chunks of a new one. Assigned by the store on commit.
  std::uint64_t body_id = 0;
};

// A whole entry in memory: what the memory tier holds (cache/cached_object.hpp).
struct CachedObject;
using CachedObjectPtr = std::shared_ptr<const CachedObject>;

}  // namespace cacheproxy::cache
