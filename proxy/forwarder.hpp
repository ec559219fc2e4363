// One exchange for an absolute-form http:// request: look up the cache, ask the policy, then
// serve from the cache, revalidate, or fetch from the origin while teeing the body into the
// store. Knows nothing of the client connection's keep-alive loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cache/entry.hpp"
#include "cache/policy.hpp"
#include "proxy/exchange.hpp"
#include "proxy/origin_pool.hpp"
#include "proxy/request_target.hpp"
#include "proxy/services.hpp"

namespace cacheproxy {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;

class Forwarder {
 public:
  // `request` has its header read; its body (if any) is still on the client connection.
  // check_destination: apply destination_access to the origin address (see Config).
  Forwarder(Services& services, OriginPool& origins, boost::beast::tcp_stream& client,
            boost::beast::flat_buffer& client_buffer, RequestParser& request,
            const RequestTarget& target, bool check_destination);

  boost::asio::awaitable<Exchange> run();

 private:
  // A stored entry found by lookup. object holds the whole entry when it came from the memory
  // tier (in_memory) or was small enough to read with its metadata in one store call; larger
  // disk entries stream their body from the store.
  struct Found {
    cache::EntryMeta meta;
    cache::CachedObjectPtr object;
    bool in_memory = false;
  };

  boost::asio::awaitable<std::optional<Found>> lookup();
  boost::asio::awaitable<Exchange> serve_cached(const Found& found, cache::Seconds age,
                                                ResultCode code);
  boost::asio::awaitable<Exchange> serve_object(const Found& found, cache::Seconds age,
                                                ResultCode code);
  boost::asio::awaitable<Exchange> serve_from_store(const Found& found, cache::Seconds age,
                                                    ResultCode code);
  // Coroutine parameters are named objects at every call site, never temporaries: GCC 12
  // destroys temporaries of a co_await expression at the wrong time.
  // Sends the request to the origin (conditional when `stale` is set) and relays the answer.
  boost::asio::awaitable<Exchange> fetch(const std::optional<Found>& stale);
  boost::asio::awaitable<Exchange> send_error(boost::beast::http::status status,
                                              std::string detail);
  boost::asio::awaitable<void> invalidate(const std::vector<std::string>& keys);

  bool client_keep_alive() const;

  Services& services_;
  OriginPool& origins_;
  boost::beast::tcp_stream& client_;
  boost::beast::flat_buffer& client_buffer_;
  RequestParser& request_;
  const RequestTarget& target_;
  bool check_destination_;
  std::optional<std::string> key_;  // normalized URL; empty if the URL cannot be a key
  boost::beast::flat_buffer origin_buffer_;
  // Held while this request fetches a URL that concurrent misses wait for.
  std::optional<CollapsedFetches::Lease> lease_;
  // Cache keys an unsafe request's response invalidates (RFC 9111 §4.4), erased at the end.
  std::vector<std::string> invalidated_;
};

}  // namespace cacheproxy
