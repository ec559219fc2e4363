// One exchange for an absolute-form http:// request: look up the cache, ask the policy, then
// serve from the cache, revalidate, or fetch from the origin while teeing the body into the
// store. Knows nothing of the client connection's keep-alive loop.
//
// The class is implemented in three files by responsibility: forwarder.cpp (lookup, the
// decision, invalidation, serving stale), cache_serve.cpp (answering from a stored entry)
// and origin_fetch.cpp (sending the request to the origin and relaying/storing its answer).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <optional>
#include <tuple>
#include <string>
#include <vector>

#include "cache/entry.hpp"
#include "cache/header_fields.hpp"
#include "cache/policy.hpp"
#include "cache/range.hpp"
#include "proxy/exchange.hpp"
#include "proxy/origin_pool.hpp"
#include "proxy/request_target.hpp"
#include "proxy/services.hpp"
#include "proxy/socket_deadlines.hpp"

namespace cacheproxy {

using RequestParser =
    boost::beast::http::request_parser<boost::beast::http::buffer_body, FieldsAllocator<char>>;
using ResponseParser =
    boost::beast::http::response_parser<boost::beast::http::buffer_body, FieldsAllocator<char>>;

class Forwarder {
 public:
  // `request` has its header read; its body (if any) is still on the client connection.
  // check_destination: apply destination_access to the origin address (see Config).
  // client_deadline: the coarse deadline for writes on the socket itself (memory hits).
  Forwarder(Services& services, OriginPool& origins, boost::beast::tcp_stream& client,
            SocketDeadline& client_deadline, boost::beast::flat_buffer& client_buffer,
            RequestParser& request, const RequestTarget& target, bool check_destination);
  // key_ may point into this object.
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  boost::asio::awaitable<Exchange> run();

 private:
  // A stored entry found by lookup. object holds the whole entry when it came from the memory
  // tier (in_memory) or was small enough to read with its metadata in one store call; larger
  // disk entries stream their body from the store.
  struct Found {
    // Where the entry lives: the URL's key (pointed to, not copied: it outlives the
    // exchange), or a variant key (Vary).
    const std::string& key() const { return variant_key.empty() ? *url_key : variant_key; }
    const std::string* url_key = nullptr;
    std::string variant_key;  // empty unless the entry is a variant
    // Shares ownership with object when there is one (an aliasing pointer): a hit copies no
    // header fields.
    std::shared_ptr<const cache::EntryMeta> meta;
    cache::CachedObjectPtr object;
    bool in_memory = false;
    // Revalidated with the origin in this exchange: fields a qualified no-cache names may be
    // sent (RFC 9111 §5.2.2.4); otherwise they are left out.
    bool validated = false;
  };
  // A whole entry, in memory or read with its metadata.
  // variant_key: empty for the entry stored under the URL's key.
  Found found_object(std::string variant_key, cache::CachedObjectPtr object,
                     bool in_memory) const;

  // What the origin answered to the forwarded request: its header is read, its body is still
  // on the connection. Without a parser, no response could be had and error_* say why.
  struct OriginReply {
    OriginConnectionPtr origin;
    std::optional<ResponseParser> parser;
    cache::TimePoint request_time{};
    cache::TimePoint response_time{};
    boost::beast::http::status error_status = boost::beast::http::status::bad_gateway;
    std::string error_detail;
    bool denied = false;           // destination_access refused the origin
    bool origin_failed = false;    // unreachable, timed out or a broken response (not 413)
    // No connection could be made, or it failed before a response header came (not a
    // malformed response): the cache is disconnected from the origin (RFC 9111 §4.2.4).
    bool unreachable = false;
  };

  // What run() found to do once its lookups are over.
  enum class Answer {
    serve,           // from the entry found (fresh, or stale while revalidating)
    revalidate,      // a conditional request for the entry found
    only_if_cached,  // 504: nothing usable is stored and the client forbids asking the origin
    fetch,           // from the origin, unconditionally
  };
  boost::asio::awaitable<Exchange> start_answer(Answer answer, const std::optional<Found>& found,
                                                cache::Seconds age);
  boost::asio::awaitable<Exchange> fetch_and_invalidate();

  // Follows a Vary marker to the variant this request selects (RFC 9111 §4.1). count: whether
  // this look is a use for eviction (not when looking again after a wait).
  boost::asio::awaitable<std::optional<Found>> lookup(cache::Store::CountUse count);
  // Answers from a stored entry by returning the coroutine that does: 304 for a client's
  // matching validator, ranges, a whole object, or a body streamed from the store.
  boost::asio::awaitable<Exchange> serve_cached(const Found& found, cache::Seconds age,
                                                ResultCode code);
  boost::asio::awaitable<Exchange> serve_not_modified(const Found& found, cache::Seconds age,
                                                      ResultCode code);
  boost::asio::awaitable<Exchange> serve_range_request(const Found& found, cache::Seconds age,
                                                       ResultCode code);
  boost::asio::awaitable<Exchange> serve_object(const Found& found, cache::Seconds age,
                                                ResultCode code);
  // serve_object's header when fields must be withheld: built field by field.
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>>
  write_object_withheld(const Found& found, cache::Seconds age, bool keep_alive);
  boost::asio::awaitable<Exchange> serve_from_store(const Found& found, cache::Seconds age,
                                                    ResultCode code);
  // RFC 9110 §14: 206 (one range, or multipart/byteranges) or 416 from a complete entry.
  boost::asio::awaitable<Exchange> serve_ranges(const Found& found, cache::Seconds age,
                                                ResultCode code,
                                                const cache::RangeDecision& decision);
  // Coroutine parameters are named objects at every call site, never temporaries: GCC 12
  // destroys temporaries of a co_await expression at the wrong time.
  // Sends the request to the origin (conditional when `stale` is set) and relays the answer;
  // answers from `stale` instead when the origin fails and RFC 5861 / offline_mode allow it.
  boost::asio::awaitable<Exchange> fetch(const std::optional<Found>& stale);
  // origin_fetch.cpp: connect, send header and body (100-continue), read the final header.
  boost::asio::awaitable<void> send_to_origin(const std::optional<Found>& stale,
                                              OriginReply& reply);
  // origin_fetch.cpp: relay the reply to the client, merging a 304 or teeing into the store.
  boost::asio::awaitable<void> relay_early_hints(const Fields& hints);
  boost::asio::awaitable<Exchange> relay_reply(OriginReply& reply,
                                               const std::optional<Found>& stale);
  // The store key for a response to this request: the URL key, or a variant key under the
  // URL's Vary marker (written after the variant's commit when it must change).
  std::string storage_key(const Fields& response_headers,
                          std::optional<cache::EntryMeta>& new_marker);
  boost::asio::awaitable<Exchange> send_error(boost::beast::http::status status,
                                              std::string detail);
  boost::asio::awaitable<void> invalidate(const std::vector<std::string>& keys);

  bool client_keep_alive() const;

  Services& services_;
  OriginPool& origins_;
  boost::beast::tcp_stream& client_;
  SocketDeadline& client_deadline_;
  boost::beast::flat_buffer& client_buffer_;
  RequestParser& request_;
  const RequestTarget& target_;
  bool check_destination_;
  // The normalized URL, when the URL as sent is not already normal (most are).
  std::optional<std::string> normalized_key_;
  // The cache key: the target's URL or normalized_key_; null if the URL cannot be a key.
  const std::string* key_ = nullptr;
  // The policy for this URL: the global one with refresh_pattern's heuristic rules applied.
  cache::PolicyConfig policy_;
  // The Vary marker stored under key_ when lookup found one (RFC 9111 §4.1).
  std::optional<cache::EntryMeta> marker_;
  boost::beast::flat_buffer origin_buffer_;
  // Held while this request fetches a URL that concurrent misses wait for.
  std::optional<CollapsedFetches::Lease> lease_;
  // A stored entry that is stale (or otherwise not usable as is): it may still answer if the
  // origin fails (stale-if-error, offline_mode).
  std::optional<Found> stale_fallback_;
  // The lookup found nothing under the URL (no entry, no Vary marker): a response stored now
  // replaces nothing, so it may be committed after the client has it (background_commit).
  bool replaces_nothing_ = false;
  // The client's Range was left out of the origin request to fetch the whole object.
  bool range_stripped_ = false;
  // Cache keys an unsafe request's response invalidates (RFC 9111 §4.4), erased at the end.
  std::vector<std::string> invalidated_;
};

}  // namespace cacheproxy
