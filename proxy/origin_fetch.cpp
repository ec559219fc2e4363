// Forwarder, part 3: the origin side of an exchange — the request in origin-form with its
// body (send_to_origin), then the answer relayed to the client and teed into the store, or a
// 304 merged into the stored entry (relay_reply).
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <sys/socket.h>

#include <memory>
#include <span>

#include "cache/cached_object.hpp"
#include "cache/head_update.hpp"
#include "cache/header_fields.hpp"
#include "cache/invalidation.hpp"
#include "cache/preconditions.hpp"
#include "cache/range.hpp"
#include "cache/variants.hpp"
#include "proxy/background_commit.hpp"
#include "proxy/cache_fill.hpp"
#include "proxy/eager_write.hpp"
#include "proxy/exchange_helpers.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/header_read.hpp"
#include "proxy/message_checks.hpp"
#include "proxy/offload.hpp"
#include "proxy/relay_header.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace exchange;

namespace {

// Streams the client's request body into the origin request's serializer.
asio::awaitable<boost::system::error_code> relay_request_body(
    beast::tcp_stream& client, beast::flat_buffer& client_buffer, RequestParser& request,
    beast::tcp_stream& origin, http::request_serializer<http::buffer_body, Fields>& sr,
    http::request<http::buffer_body, Fields>& outgoing, const Config& config) {
  std::vector<char> buffer(kRelayBufferBytes);
  while (!request.is_done()) {
    request.get().body().data = buffer.data();
    request.get().body().size = buffer.size();
    client.expires_after(config.client_header_timeout);
    auto [ec, n] = co_await http::async_read(client, client_buffer, request, use_tuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return ec;
    std::size_t got = buffer.size() - request.get().body().size;
    if (got == 0) continue;
    outgoing.body().data = buffer.data();
    outgoing.body().size = got;
    outgoing.body().more = true;
    origin.expires_after(config.origin_read_timeout);
    auto [wec, wn] = co_await http::async_write(origin, sr, use_tuple);
    if (wec == http::error::need_buffer) wec = {};
    if (wec) co_return wec;
  }
  outgoing.body().data = nullptr;
  outgoing.body().size = 0;
  outgoing.body().more = false;
  origin.expires_after(config.origin_read_timeout);
  auto [ec, n] = co_await http::async_write(origin, sr, use_tuple);
  if (ec == http::error::need_buffer) ec = {};
  co_return ec;
}

// Reads the next piece of a body of known length into `into`, without the parser: first the
// bytes that came in with the header, then straight from the socket, never past the body's
// end (so a reused connection keeps its next response intact). The parser would read into
// its buffer and copy from there; this is one copy less per byte.
asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_length_body(
    beast::tcp_stream& origin, beast::flat_buffer& buffered, std::span<char> into,
    std::uint64_t& remaining, Duration timeout) {
  const std::size_t wanted =
      static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), remaining));
  if (buffered.size() > 0) {
    std::size_t n = asio::buffer_copy(asio::buffer(into.data(), wanted), buffered.data());
    buffered.consume(n);
    // What else has arrived goes in the same piece (one write to the client, not two),
    // without waiting for more: a slow origin's first bytes are relayed at once. Asio's own
    // receive would wait; errors and the end of the stream show at the next read.
    if (n < wanted) {
      ssize_t more = ::recv(origin.socket().native_handle(), into.data() + n, wanted - n,
                            MSG_DONTWAIT);
      if (more > 0) n += static_cast<std::size_t>(more);
    }
    remaining -= n;
    co_return std::tuple{boost::system::error_code{}, n};
  }
  origin.expires_after(timeout);
  auto [ec, n] = co_await origin.async_read_some(asio::buffer(into.data(), wanted), use_tuple);
  remaining -= n;
  // The connection closed before the body's end: the body is incomplete.
  if (ec == asio::error::eof) ec = http::error::partial_message;
  co_return std::tuple{ec, n};
}

}  // namespace

asio::awaitable<void> Forwarder::send_to_origin(const std::optional<Found>& stale,
                                                OriginReply& reply) {
  const auto& req = request_.get();
  const Config& config = services_.config;

  // The request as the origin sees it: origin-form target, end-to-end fields only.
  http::request<http::buffer_body, Fields> outgoing;
  outgoing.method_string(req.method_string());
  outgoing.target(target_.path);
  outgoing.version(11);
  copy_end_to_end_fields(req.base(), outgoing.base());
  outgoing.set(http::field::host, host_field(target_));
  outgoing.erase(http::field::expect);  // answered here, before the body is relayed
  // Squid's range_offset_limit: a Range miss for a cacheable GET fetches the whole object, so
  // it can be stored, when the range starts early enough; the client still gets its 206.
  range_stripped_ = false;
  if (key_ && req.method() == http::verb::get && req.count(http::field::range) == 1 &&
      cache::request_cacheable(cache::RequestView{req.method(), req.base()}).storable) {
    auto start = cache::lowest_range_start(req[http::field::range]);
    range_stripped_ = start && *start <= config.range_offset_limit;
  }
  if (range_stripped_) {
    outgoing.erase(http::field::range);
    outgoing.erase(http::field::if_range);
  }
  // RFC 9110 §7.6.2: each hop forwarding TRACE or OPTIONS decrements Max-Forwards.
  bool hop_limited = req.method() == http::verb::trace || req.method() == http::verb::options;
  if (auto remaining = max_forwards(req.base()); hop_limited && remaining && *remaining > 0)
    outgoing.set(http::field::max_forwards, std::to_string(*remaining - 1));
  append_via(outgoing.base(), req.version(), config.visible_hostname);
  if (stale) {
    cache::add_conditional_headers(*stale->meta, outgoing.base());
    services_.stats.count_revalidation();
  }
  bool has_body = !request_.is_done();
  if (has_body) {
    if (auto length = request_.content_length()) {
      outgoing.content_length(*length);
    } else {
      outgoing.chunked(true);
    }
  }
  outgoing.keep_alive(true);
  // Without a body, the header is the whole request: formatted once, written as one buffer
  // (on a retry too).
  fmt::memory_buffer bodyless;
  if (!has_body) append_request_header(bodyless, outgoing.base());

  // Connect (or reuse), send the header and body, read the response header. A reused idle
  // connection may have been closed by the origin just now: an idempotent request without a
  // body is then sent once more on a fresh one, if nothing of the response came.
  const bool retriable = !has_body && idempotent(req.method());
  OriginConnectionPtr& origin = reply.origin;
  std::optional<ResponseParser>& parser = reply.parser;
  boost::system::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // The retry must not get another idle connection that may be just as dead.
    bool fresh_only = attempt > 0;
    ConnectOutcome connected =
        co_await origins_.acquire(target_.host, target_.port, fresh_only, check_destination_,
                                  retriable ? IdleCheck::unless_recent : IdleCheck::always);
    if (!connected.connection) {
      // On the retry, nothing of the first attempt is left to be taken for a response.
      origin.reset();
      parser.reset();
      reply.error_status = static_cast<http::status>(connect_error_status(connected.error));
      reply.error_detail = std::move(connected.message);
      reply.denied = connected.error == ConnectError::denied;
      reply.origin_failed = !reply.denied;
      reply.unreachable = !reply.denied;
      co_return;
    }
    origin = std::move(connected.connection);
    reply.request_time = cache::Clock::now();
    origin->stream.expires_after(config.origin_read_timeout);
    std::size_t written = 0;
    if (!has_body) {
      // At once when the socket takes it, as it nearly always does (eager_write.hpp): no
      // timer armed, no completion queued.
      const asio::const_buffer request_bytes(bodyless.data(), bodyless.size());
      written = write_now(origin->stream.socket(), request_bytes, ec);
      if (!ec && written < request_bytes.size()) {
        const asio::const_buffer rest = request_bytes + written;
        std::size_t more = 0;
        std::tie(ec, more) = co_await asio::async_write(origin->stream, rest, use_tuple);
        written += more;
      }
    } else {
      http::request_serializer<http::buffer_body, Fields> sr{outgoing};
      std::tie(ec, written) = co_await http::async_write_header(origin->stream, sr, use_tuple);
      if (!ec) {
        // RFC 9110 §10.1.1: the proxy answers Expect: 100-continue itself before relaying the
        // body (the field is not forwarded), so the client never waits for an origin that
        // might not know it.
        auto expect = req.find(http::field::expect);
        if (expect != req.end() && beast::iequals(expect->value(), "100-continue") &&
            req.version() >= 11) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          client_.expires_after(config.client_write_timeout);
          co_await asio::async_write(client_, asio::buffer(kContinue), use_tuple);
        }
        ec = co_await relay_request_body(client_, client_buffer_, request_, origin->stream, sr,
                                         outgoing, config);
      }
    }
    if (!ec) {
      // Interim 1xx responses are consumed here; only the final response is relayed, except
      // 103 Early Hints (RFC 8297), passed on to HTTP/1.1 clients. Interim responses are
      // never stored (RFC 9111 §3).
      bool interim = false;
      do {
        parser.emplace();
        parser->header_limit(config.max_response_header_size);
        parser->body_limit(boost::none);
        if (req.method() == http::verb::head) parser->skip(true);
        origin->stream.expires_after(config.origin_read_timeout);
        std::size_t n = 0;
        std::tie(ec, n) = co_await read_header(origin->stream, origin_buffer_, *parser);
        unsigned status = ec ? 0 : parser->get().result_int();
        interim = status / 100 == 1 && status != 101;
        if (interim && status == 103 && req.version() >= 11) {
          co_await relay_early_hints(parser->get().base());
        }
      } while (interim);
    }
    bool retry = ec && origin->reused && retriable && transient_connection_error(ec) &&
                 origin_buffer_.size() == 0;
    if (!retry) break;
    origin_buffer_.clear();
  }
  if (ec == http::error::body_limit) {
    reply.error_status = http::status::payload_too_large;
    reply.error_detail = fmt::format(
        "the request body is larger than max_request_body_size ({} bytes)",
        config.max_request_body_size);
    parser.reset();
    co_return;
  }
  if (!ec) {
    // RFC 9112 §6.3: a response whose length could be read two ways is neither relayed nor
    // stored, and its connection is not reused.
    if (FramingCheck framing = check_framing(parser->get().base()); !framing.ok) {
      reply.error_status = http::status::bad_gateway;
      reply.error_detail = fmt::format("origin {}:{} sent a malformed response: {}",
                                       target_.host, target_.port, framing.reason);
      reply.origin_failed = true;
      parser.reset();
      co_return;
    }
  }
  if (ec) {
    bool timed_out = ec == beast::error::timeout;
    reply.error_detail =
        timed_out
            ? fmt::format("origin {}:{} did not answer in time", target_.host, target_.port)
            : fmt::format("origin {}:{} failed: {}", target_.host, target_.port, ec.message());
    reply.error_status = timed_out ? http::status::gateway_timeout : http::status::bad_gateway;
    reply.origin_failed = true;
    reply.unreachable = true;
    parser.reset();
    co_return;
  }
  reply.response_time = cache::Clock::now();
}

asio::awaitable<void> Forwarder::relay_early_hints(const Fields& hints) {
  http::response<http::empty_body, Fields> early;
  early.version(11);
  early.result(static_cast<http::status>(103));
  early.reason("Early Hints");  // Boost 1.81 does not know the status's name
  copy_end_to_end_fields(hints, early.base());
  http::response_serializer<http::empty_body, Fields> sr{early};
  client_.expires_after(services_.config.client_write_timeout);
  co_await http::async_write_header(client_, sr, use_tuple);
}

asio::awaitable<Exchange> Forwarder::relay_reply(OriginReply& reply,
                                                 const std::optional<Found>& stale) {
  const auto& req = request_.get();
  const Config& config = services_.config;
  cache::RequestView view{req.method(), req.base()};
  OriginConnectionPtr& origin = reply.origin;
  std::optional<ResponseParser>& parser = reply.parser;
  const cache::TimePoint request_time = reply.request_time;
  const cache::TimePoint response_time = reply.response_time;
  auto& response = parser->get();
  unsigned status = response.result_int();

  Exchange ex;
  ex.direct = true;
  ex.peer = origin->peer;
  ex.status = status;
  ex.set_mime(cache::media_type(response.base()));
  bool keep = client_keep_alive() && request_.is_done();

  // RFC 9111 §4.3.3/§4.3.4: a 304 to our conditional request freshens the stored entry.
  if (stale && status == 304) {
    if (parser->keep_alive() && origin_buffer_.size() == 0)
      origins_.release(target_.host, target_.port, std::move(origin));
    if (!cache::not_modified_selects(*stale->meta, response.base())) {
      // RFC 9111 §4.3.4: a 304 naming another representation updates nothing: drop the
      // stored response and ask again without our conditions.
      const std::vector<std::string> replaced{stale->key()};
      co_await invalidate(replaced);
      if (lease_) lease_->release();
      const std::optional<Found> nothing_stored;
      co_return co_await fetch(nothing_stored);
    }
    cache::EntryMeta merged =
        cache::merge_not_modified(*stale->meta, response.base(), request_time, response_time);
    // Already placed in the memory tier here, so serving does not place the old one again.
    Found refreshed{stale->url_key, stale->variant_key,
                    std::make_shared<const cache::EntryMeta>(merged), nullptr, true,
                    /*validated=*/true};
    if (stale->object) {
      refreshed = found_object(stale->variant_key,
                               cache::make_cached_object(merged, stale->object->body), true);
      refreshed.validated = true;
      services_.memory.put(stale->key(), refreshed.object);
    }
    auto& store = services_.store;
    const std::string& key = stale->key();
    co_await run_blocking(services_.store_pool,
                          [&store, &key, &merged] { return store.update_meta(key, merged); });
    // Requests waiting for this revalidation find the refreshed entry.
    if (lease_) lease_->release();
    Exchange served =
        co_await serve_cached(refreshed, cache::current_age(merged, cache::Clock::now()),
                              ResultCode::tcp_refresh_unmodified);
    served.direct = true;
    served.peer = ex.peer;
    co_return served;
  }
  ex.code = stale ? ResultCode::tcp_refresh_modified : ResultCode::tcp_miss;
  // RFC 9111 §4.3.5: a HEAD answer to our revalidation freshens the stored GET response when
  // it describes it, and otherwise shows it is out of date (erased below).
  bool head_refreshed = false;
  if (stale && req.method() == http::verb::head && status < 500) {
    if (std::optional<cache::EntryMeta> updated = cache::update_from_head(
            *stale->meta, status, response.base(), request_time, response_time)) {
      if (stale->object) {
        services_.memory.put(stale->key(),
                             cache::make_cached_object(*updated, stale->object->body));
      }
      auto& store = services_.store;
      const std::string& key = stale->key();
      const cache::EntryMeta& meta = *updated;
      co_await run_blocking(services_.store_pool,
                            [&store, &key, &meta] { return store.update_meta(key, meta); });
      head_refreshed = true;
      ex.code = ResultCode::tcp_refresh_unmodified;
    }
  }
  // RFC 9111 §4.4: a non-error response to an unsafe method invalidates what it names.
  if (is_unsafe(req.method()) && status >= 200 && status < 400)
    invalidated_ = cache::invalidated_keys(target_.url, response.base());

  // Decide storing before anything is sent: the policy sees the origin's header as received.
  bool store_it = false;
  if (key_ && req.method() == http::verb::get && cache::request_cacheable(view).storable) {
    store_it = cache::response_storable(view, status, response.base(), policy_).storable;
    auto length = parser->content_length();
    if (length && *length > config.maximum_object_size) store_it = false;
  }
  // RFC 9111 §4.1: a response with Vary is stored as one variant beside the others.
  std::optional<cache::EntryMeta> new_marker;
  std::string store_key = store_it ? storage_key(response.base(), new_marker) : std::string();

  bool no_content = has_no_content(req.method(), status);
  RelayHeader relayed;
  relayed.version = req.version();
  relayed.status = status;
  relayed.reason = response.reason();
  relayed.response_time = response_time;
  relayed.visible_hostname = config.visible_hostname;
  // The client asked for a range we fetched whole: it gets that range (RFC 9110 §14.2), cut
  // from the body as it streams. Several ranges or an unknown length: the whole 200, which a
  // server may always send instead.
  std::optional<cache::ByteRange> slice;
  std::string content_range;
  if (range_stripped_ && status == 200 && !no_content && parser->content_length()) {
    cache::RangeDecision decision =
        cache::evaluate_range(req.base(), status, response.base(), *parser->content_length(),
                              response_time);
    if (decision.outcome == cache::RangeOutcome::partial && decision.ranges.size() == 1) {
      slice = decision.ranges.front();
      content_range = cache::content_range(*slice, *parser->content_length());
      relayed.status = 206;
      relayed.reason = {};
      relayed.content_range = content_range;
      ex.status = 206;
    }
  }
  if (!no_content) {
    if (slice) {
      relayed.framing = RelayFraming::length;
      relayed.content_length = slice->size();
    } else if (auto length = parser->content_length()) {
      relayed.framing = RelayFraming::length;
      relayed.content_length = *length;
    } else if (req.version() >= 11) {
      relayed.framing = RelayFraming::chunked;
    } else {
      relayed.framing = RelayFraming::close_delimited;
      keep = false;  // HTTP/1.0 client: the end of the body is the end of the connection
    }
  }
  relayed.keep_alive = keep;
  const bool chunked = relayed.framing == RelayFraming::chunked;
  fmt::memory_buffer header;
  append_relay_header(header, response.base(), relayed);
  bool header_sent = false;
  bool last_chunk_sent = false;
  // Sends what has not been sent of the header, then piece (in a chunk when chunked), and
  // when last the chunked body's end, in one gather write.
  auto send = [&](std::string_view piece,
                  bool last) -> asio::awaitable<boost::system::error_code> {
    char prefix_storage[20];
    std::array<asio::const_buffer, 5> buffers{};
    std::size_t count = 0;
    if (!header_sent) buffers[count++] = asio::buffer(header.data(), header.size());
    if (!piece.empty()) {
      if (chunked)
        buffers[count++] = asio::buffer(relay_chunk_prefix(piece.size(), prefix_storage));
      buffers[count++] = asio::buffer(piece.data(), piece.size());
      if (chunked) buffers[count++] = asio::buffer("\r\n", 2);
    }
    if (last && chunked) {
      buffers[count++] = asio::buffer(kRelayLastChunk.data(), kRelayLastChunk.size());
      last_chunk_sent = true;
    }
    header_sent = true;
    const std::span<const asio::const_buffer> pieces(buffers.data(), count);
    // At once what the socket takes (most pieces, unless the client reads slower than the
    // origin sends), awaiting only the rest: see eager_write.hpp.
    boost::system::error_code ec;
    std::size_t sent = write_now(client_.socket(), pieces, ec);
    if (!ec && sent < asio::buffer_size(pieces)) {
      beast::buffers_suffix<std::span<const asio::const_buffer>> rest(pieces);
      rest.consume(sent);
      client_.expires_after(config.client_write_timeout);
      auto [wait_ec, more] = co_await asio::async_write(client_, rest, use_tuple);
      ec = wait_ec;
      sent += more;
    }
    ex.bytes += sent;
    co_return ec;
  };
  bool complete = no_content || parser->is_done();
  // When body bytes came in with the origin's header, the header goes out with the first of
  // them in one write (one segment, one wake-up of the client, not two). Otherwise it goes
  // now: an origin that is slow to send its body (a long poll, an event stream) must not keep
  // the client from seeing the response begin.
  constexpr std::string_view kNoPiece;
  if (complete || origin_buffer_.size() == 0) {
    if (co_await send(kNoPiece, false)) co_return ex;
  }

  // Nothing will be stored: requests waiting for this fetch must go to the origin themselves.
  if (!store_it && lease_) lease_->release();
  std::unique_ptr<CacheFill> fill;
  if (store_it) {
    fill = std::make_unique<CacheFill>(services_.store, services_.store_pool,
                                       *services_.shared.committer, services_.stats, store_key,
                                       config.maximum_object_size);
  }
  // How a complete body is stored is decided once, when it is complete (commit_now):
  // - An entry that replaces nothing and fits the background allowance is committed once the
  //   client has the whole body, in the background (background_commit): this connection goes
  //   on while the store works, and the lease goes with the commit, so a repeat request waits
  //   for it and finds the entry stored.
  // - If background commits hold the whole allowance, the store is behind the disk: such an
  //   entry is not stored at all, so no client waits for a disk stall on a miss (Squid's rock
  //   store past its swap-timeout and Traffic Server past its write backlog do the same).
  // - Any other entry is committed before the last piece goes, the client waiting: one that
  //   replaces a stored entry (a refresh, a new Vary generation), so no request after this
  //   response gets the old one, and one larger than the allowance.
  // Taken when the body is complete, if the entry is committed in the background.
  std::optional<BackgroundCommitRoom> room;
  auto commit_now = [&]() -> asio::awaitable<void> {
    if (room || !fill || !fill->active()) co_return;
    if (replaces_nothing_ && BackgroundCommitRoom::fits(fill->size())) {
      if (auto reserved = BackgroundCommitRoom::reserve(services_.shared, fill->size())) {
        room.emplace(std::move(*reserved));
      } else {
        co_await fill->skip();
        if (lease_) lease_->release();  // waiting requests go to the origin themselves
      }
      co_return;
    }
    cache::EntryMeta meta =
        cache::make_entry_meta(view, status, response.base(), request_time, response_time);
    if (co_await fill->commit(std::move(meta))) {
      // A replaced entry must not be served from memory any longer.
      services_.memory.erase(store_key);
      if (new_marker) co_await store_vary_marker(services_, *key_, *new_marker);
    }
    // Requests waiting for this fetch can now find the entry.
    if (lease_) lease_->release();
  };
  auto commit_after = [&] {
    if (!room || !fill || !fill->active()) {
      if (lease_) lease_->release();
      return;
    }
    // The origin's header is not needed any more: its fields are taken over, not copied.
    Fields& received = response.base();
    BackgroundCommit commit{
        std::move(fill),
        cache::make_entry_meta(view, status, std::move(received), request_time, response_time),
        store_key, std::move(new_marker), *key_, std::move(lease_), std::move(*room)};
    lease_.reset();
    start_background_commit(services_, client_.get_executor(), std::move(commit));
  };

  // A body of known length goes around the parser (read_length_body). When it is stored and
  // small enough for one store write, it is read straight into the fill's buffer and relayed
  // from there; otherwise through a relay buffer of this exchange.
  std::optional<std::uint64_t> body_length;
  if (auto length = parser->content_length(); length && !complete) body_length = *length;
  std::uint64_t body_remaining = body_length.value_or(0);
  std::span<char> in_place;
  if (fill && body_length) in_place = fill->in_place_buffer(*body_length);
  std::unique_ptr<char[]> storage;
  std::span<char> relay_buffer;
  if (!complete && in_place.empty()) {
    // Not zeroed: every byte is written by a read before it is relayed.
    storage = std::make_unique_for_overwrite<char[]>(kRelayBufferBytes);
    relay_buffer = std::span<char>(storage.get(), kRelayBufferBytes);
    // Beast reads at most the flat buffer's free capacity per receive (at least 512 bytes):
    // left at its header-sized capacity, a 16 KiB body took some 16 receives.
    if (!body_length) origin_buffer_.reserve(kRelayBufferBytes);
  }
  std::uint64_t total = 0;
  bool origin_unfinished = false;  // stopped reading before the end: not reusable
  while (!complete) {
    const std::span<char> buffer =
        in_place.empty() ? relay_buffer : in_place.subspan(static_cast<std::size_t>(total));
    boost::system::error_code rec;
    std::size_t got = 0;
    if (body_length) {
      std::tie(rec, got) = co_await read_length_body(origin->stream, origin_buffer_, buffer,
                                                     body_remaining, config.origin_read_timeout);
      complete = !rec && body_remaining == 0;
    } else {
      response.body().data = buffer.data();
      response.body().size = buffer.size();
      origin->stream.expires_after(config.origin_read_timeout);
      std::size_t n = 0;
      std::tie(rec, n) = co_await http::async_read(origin->stream, origin_buffer_, *parser, use_tuple);
      if (rec == http::error::need_buffer) rec = {};
      got = buffer.size() - response.body().size;
      complete = !rec && parser->is_done();
    }
    if (rec) {
      // The origin failed mid-body: cut the client's response off and store nothing.
      if (fill) co_await fill->abandon();
      services_.stats.add_bytes_from_origin(total);
      // A header held back to go out with the first body bytes goes now: the client sees the
      // same cut-off response as when the header went first (the cut is what tells it the
      // body is incomplete; the status may already be a success).
      if (!header_sent) co_await send(kNoPiece, false);
      ex.keep_alive = false;
      co_return ex;
    }
    const std::uint64_t at = total;
    total += got;
    if (fill) {
      if (in_place.empty()) {
        co_await fill->append(buffer.data(), got);
      } else {
        fill->appended_in_place(got);
      }
    }
    if (complete) co_await commit_now();
    const char* piece = buffer.data();
    std::size_t piece_size = got;
    if (slice) {
      // Only the bytes of [first, last] go to the client.
      std::uint64_t from = std::max(at, slice->first);
      std::uint64_t to = std::min(at + got, slice->last + 1);
      piece_size = from < to ? static_cast<std::size_t>(to - from) : 0;
      piece += from < to ? from - at : 0;
      if (total > slice->last && !complete && !(fill && fill->active())) {
        // The range is complete and nothing is stored: the rest of the body is not needed.
        origin_unfinished = true;
        complete = true;
      }
    }
    if (piece_size == 0) continue;
    const std::string_view relayed_piece(piece, piece_size);
    if (co_await send(relayed_piece, complete)) {
      // The client left. A whole body is still stored; anything less is not.
      if (complete) {
        commit_after();
      } else if (fill) {
        co_await fill->abandon();
      }
      services_.stats.add_bytes_from_origin(total);
      ex.keep_alive = false;
      co_return ex;
    }
  }
  co_await commit_now();  // bodyless responses never entered the loop
  services_.stats.add_bytes_from_origin(total);
  // A header still waiting for a body that turned out empty, or the chunked body's end.
  if (!header_sent || (chunked && !last_chunk_sent)) {
    if (co_await send(kNoPiece, true)) keep = false;
  }
  commit_after();
  if (!origin_unfinished && parser->keep_alive() && origin_buffer_.size() == 0)
    origins_.release(target_.host, target_.port, std::move(origin));
  if (stale && !store_it && !head_refreshed && status < 500) {
    // RFC 9111 §4.3.3: the new response replaces the stored one; if it cannot be stored, the
    // old one must not be served any more either. A 5xx replaces nothing: the stored entry
    // stays for stale-if-error.
    const std::vector<std::string> replaced{stale->key()};
    co_await invalidate(replaced);
  }
  ex.keep_alive = keep;
  co_return ex;
}
}  // namespace cacheproxy
