// Writes a response from a whole stored object held in memory, in one gather write: a status
// line and the per-response fields formatted into a small stack buffer, the object's fields
// serialized once when it was built (CachedObject::wire_fields), and its body, shared and
// immutable, straight from the object. No header object is built and nothing is copied, so a
// memory hit costs little more than the system call that sends it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <string_view>
#include <tuple>

#include "cache/cached_object.hpp"

namespace cacheproxy {

struct WholeObjectResponse {
  unsigned version = 11;       // the client's HTTP version
  cache::Seconds age{0};       // RFC 9111 §5.1
  bool keep_alive = true;
  bool head_only = false;      // HEAD: the header, Content-Length of the body, no body
  std::string_view visible_hostname;  // for Via
};

// The header as write_whole_object() sends it (tests compare it with Beast's serializer).
std::string whole_object_header(const cache::CachedObject& object,
                                const WholeObjectResponse& response);

// Sends the header, and the body unless head_only, on the socket itself: at once what the
// socket takes without waiting (write_now), then the rest asynchronously, under a deadline the
// caller arms (SocketDeadline). Returns the error and bytes written.
boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> write_whole_object(
    boost::asio::ip::tcp::socket& client, const cache::CachedObject& object,
    WholeObjectResponse response);

}  // namespace cacheproxy
