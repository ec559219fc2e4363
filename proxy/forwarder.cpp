#include "proxy/forwarder.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>

#include "cache/cache_key.hpp"
#include "cache/hop_by_hop.hpp"
#include "cache/invalidation.hpp"
#include "cache/preconditions.hpp"
#include "proxy/cache_fill.hpp"
#include "proxy/message_checks.hpp"
#include "proxy/offload.hpp"
#include "proxy/simple_response.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// Bytes moved per read/write while relaying a body: bounds memory per exchange.
constexpr std::size_t kRelayBufferBytes = 64 * 1024;
// Bodies up to this size are read together with their metadata in the lookup call.
constexpr std::size_t kStoreReadBytes = 256 * 1024;
// Body bytes read from the store per step when streaming a larger disk hit: bounds memory per
// hit, and bodies up to this size are read through a single snapshot.
constexpr std::size_t kStoreStreamBytes = 4 * 1024 * 1024;

bool is_unsafe(http::verb method) {
  // RFC 9110 §9.2.1: safe methods never change the resource; the rest invalidate (§4.4 9111).
  switch (method) {
    case http::verb::get:
    case http::verb::head:
    case http::verb::options:
    case http::verb::trace:
      return false;
    default:
      return true;
  }
}

// RFC 9110 §6.4.1: responses to HEAD, and 1xx, 204 and 304 responses, never carry content.
bool has_no_content(http::verb method, unsigned status) {
  return method == http::verb::head || status / 100 == 1 || status == 204 || status == 304;
}

std::string host_field(const RequestTarget& t) {
  bool v6 = t.host.find(':') != std::string::npos;
  std::string host = v6 ? fmt::format("[{}]", t.host) : t.host;
  return t.port == 80 ? host : fmt::format("{}:{}", host, t.port);
}

void copy_end_to_end_fields(const http::fields& from, http::fields& to) {
  for (const auto& field : from) to.insert(field.name_string(), field.value());
  cache::remove_hop_by_hop(to);
}

std::string media_type(const http::fields& fields) {
  auto it = fields.find(http::field::content_type);
  if (it == fields.end()) return {};
  std::string_view value = it->value();
  return std::string(value.substr(0, value.find(';')));
}

bool transient_connection_error(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message;
}

}  // namespace

Forwarder::Forwarder(Services& services, OriginPool& origins, beast::tcp_stream& client,
                     beast::flat_buffer& client_buffer, RequestParser& request,
                     const RequestTarget& target, bool check_destination)
    : services_(services),
      origins_(origins),
      client_(client),
      client_buffer_(client_buffer),
      request_(request),
      target_(target),
      check_destination_(check_destination),
      key_(cache::normalize_cache_key(target.url)) {}

bool Forwarder::client_keep_alive() const {
  const auto& req = request_.get();
  if (req.keep_alive()) return true;
  // Old HTTP/1.0 clients ask a proxy for keep-alive with Proxy-Connection.
  auto it = req.find("Proxy-Connection");
  return req.version() == 10 && it != req.end() && beast::iequals(it->value(), "keep-alive");
}

asio::awaitable<Exchange> Forwarder::run() {
  const auto& req = request_.get();
  cache::RequestView view{req.method(), req.base()};
  bool use_cache = key_ && cache::request_cacheable(view).storable;

  // A miss for a URL that another request is already fetching waits for that fetch and
  // looks again (collapsed forwarding), so one origin request serves them all.
  bool may_collapse = use_cache && req.method() == http::verb::get;
  for (int look = 0; use_cache; ++look) {
    std::optional<Found> found = co_await lookup();
    if (found) {
      auto decision =
          cache::evaluate_entry(view, found->meta, cache::Clock::now(), services_.policy);
      switch (decision.action) {
        case cache::Action::serve:
          co_return co_await serve_cached(
              *found, decision.age,
              found->in_memory ? ResultCode::tcp_mem_hit : ResultCode::tcp_hit);
        case cache::Action::revalidate:
          co_return co_await fetch(found);
        case cache::Action::fetch:
          break;
      }
    }
    if (!may_collapse || look > 0 || cache::only_if_cached(view)) break;
    if (auto lease = services_.collapsed.try_lead(*key_)) {
      lease_.emplace(std::move(*lease));
      break;  // this request fetches; the others wait for it
    }
    co_await services_.collapsed.wait(*key_, services_.config.collapsed_forwarding_timeout);
  }
  if (use_cache && cache::only_if_cached(view)) {
    std::string detail = "only-if-cached: no usable response is stored";
    co_return co_await send_error(http::status::gateway_timeout, std::move(detail));
  }
  // Named, not a temporary: GCC 12 mishandles temporaries in co_await expressions.
  const std::optional<Found> nothing_stored;
  Exchange ex = co_await fetch(nothing_stored);
  if (!invalidated_.empty()) co_await invalidate(invalidated_);
  co_return ex;
}

asio::awaitable<std::optional<Forwarder::Found>> Forwarder::lookup() {
  if (auto object = services_.memory.get(*key_)) {
    // Recency for the disk tier's eviction, recorded off the network thread (it may write
    // to LevelDB); nothing waits for it.
    asio::post(services_.store_pool, [&store = services_.store, key = *key_] { store.touch(key); });
    co_return Found{object->meta, object, true};
  }
  auto& store = services_.store;
  const std::string& key = *key_;
  co_return co_await run_blocking(services_.store_pool, [&store, &key]() -> std::optional<Found> {
    std::optional<cache::EntryMeta> meta = store.lookup(key);
    if (!meta) return std::nullopt;
    if (meta->body_size > kStoreReadBytes) return Found{std::move(*meta), nullptr, false};
    // Small bodies (most of them) are read in the same call: one hop to the store, and no
    // window in which a concurrent replacement could cut the response short.
    std::optional<std::string> body = store.read_body(key, *meta, 0, kStoreReadBytes);
    if (!body || body->size() != meta->body_size) return std::nullopt;  // replaced: a miss
    auto object = std::make_shared<cache::CachedObject>(
        cache::CachedObject{std::move(*meta), std::move(*body)});
    return Found{object->meta, object, false};
  });
}

asio::awaitable<void> Forwarder::invalidate(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) services_.memory.erase(key);
  auto& store = services_.store;
  co_await run_blocking(services_.store_pool, [&store, &keys] {
    for (const std::string& key : keys) store.erase(key);
    return true;
  });
  services_.stats.count_invalidation();
}

asio::awaitable<Exchange> Forwarder::send_error(http::status status, std::string detail) {
  const auto& req = request_.get();
  // An unread request body would be taken for the next request: close instead.
  bool keep = client_keep_alive() && request_.is_done();
  SimpleResponse response = make_error(status, detail);
  Exchange ex = co_await send_simple(client_, req.version(), keep, response,
                                     services_.config.visible_hostname,
                                     services_.config.client_write_timeout);
  if (static_cast<unsigned>(status) >= 500) services_.stats.count_error();
  co_return ex;
}

asio::awaitable<Exchange> Forwarder::serve_cached(const Found& found, cache::Seconds age,
                                                  ResultCode code) {
  const auto& req = request_.get();
  // RFC 9111 §4.3.2: the client's own validator matches the stored response: 304, no body.
  if (cache::client_has_current(cache::RequestView{req.method(), req.base()}, found.meta)) {
    http::response<http::empty_body> res{http::status::not_modified, req.version()};
    for (const auto& field : cache::not_modified_fields(found.meta))
      res.insert(field.name_string(), field.value());
    res.set(http::field::age, std::to_string(age.count()));
    append_via(res, req.version(), services_.config.visible_hostname);
    bool keep = client_keep_alive() && request_.is_done();
    res.keep_alive(keep);
    Exchange ex;
    ex.code = code;
    ex.status = 304;
    client_.expires_after(services_.config.client_write_timeout);
    auto [ec, n] = co_await http::async_write(client_, res, use_tuple);
    ex.bytes = n;
    ex.keep_alive = keep && !ec;
    co_return ex;
  }
  if (found.object) co_return co_await serve_object(found, age, code);
  co_return co_await serve_from_store(found, age, code);
}

namespace {

// The header of a response served from the cache: the stored fields, Age (RFC 9111 §5.1),
// our Via, framing by the stored body size.
template <class Body>
void prepare_cached_header(http::response<Body>& res, const cache::EntryMeta& meta,
                           cache::Seconds age, unsigned version, bool keep_alive,
                           std::string_view visible_hostname) {
  res.version(version);
  res.result(meta.status);
  for (const auto& field : meta.headers) res.insert(field.name_string(), field.value());
  res.set(http::field::age, std::to_string(age.count()));
  append_via(res, version, visible_hostname);
  res.content_length(meta.body_size);
  res.keep_alive(keep_alive);
}

}  // namespace

asio::awaitable<Exchange> Forwarder::serve_object(const Found& found, cache::Seconds age,
                                                  ResultCode code) {
  const auto& req = request_.get();
  const auto& config = services_.config;
  Exchange ex;
  ex.code = code;
  ex.status = found.meta.status;
  ex.mime = media_type(found.meta.headers);
  bool keep = client_keep_alive() && request_.is_done();

  http::response<http::span_body<const char>> res;
  prepare_cached_header(res, found.meta, age, req.version(), keep, config.visible_hostname);
  client_.expires_after(config.client_write_timeout);
  boost::system::error_code ec;
  std::size_t n = 0;
  if (req.method() == http::verb::head) {
    http::response_serializer<http::span_body<const char>> sr{res};
    std::tie(ec, n) = co_await http::async_write_header(client_, sr, use_tuple);
  } else {
    // The object is shared and immutable: the body is written straight from it, no copy.
    res.body() = {found.object->body.data(), found.object->body.size()};
    std::tie(ec, n) = co_await http::async_write(client_, res, use_tuple);
    if (!ec) services_.stats.add_bytes_from_cache(found.object->body.size());
  }
  // A disk hit is worth keeping hot; the tier refuses what is too large for it.
  if (!found.in_memory) services_.memory.put(*key_, found.object);
  ex.bytes = n;
  ex.keep_alive = keep && !ec;
  co_return ex;
}

asio::awaitable<Exchange> Forwarder::serve_from_store(const Found& found, cache::Seconds age,
                                                      ResultCode code) {
  const auto& req = request_.get();
  const auto& config = services_.config;
  Exchange ex;
  ex.code = code;
  ex.status = found.meta.status;
  ex.mime = media_type(found.meta.headers);
  bool keep = client_keep_alive() && request_.is_done();

  auto& store = services_.store;
  const std::string& key = *key_;
  const cache::EntryMeta& meta = found.meta;
  // Each read_body call reads through one LevelDB snapshot, so reading in large steps keeps
  // an entry evicted or replaced meanwhile readable to the end of the step. The first step
  // is read before anything is sent: if the entry is already gone, this is simply a miss.
  auto read_step = [&store, &key, &meta](std::uint64_t offset) {
    return store.read_body(key, meta, offset, kStoreStreamBytes);
  };
  std::optional<std::string> chunk;
  if (req.method() != http::verb::head && meta.body_size > 0) {
    chunk = co_await run_blocking(services_.store_pool, [&read_step] { return read_step(0); });
    if (!chunk || chunk->empty()) {
      const std::optional<Found> nothing_stored;
      co_return co_await fetch(nothing_stored);
    }
  }

  http::response<http::buffer_body> res;
  prepare_cached_header(res, found.meta, age, req.version(), keep, config.visible_hostname);
  http::response_serializer<http::buffer_body> sr{res};
  client_.expires_after(config.client_write_timeout);
  auto [ec, n] = co_await http::async_write_header(client_, sr, use_tuple);
  ex.bytes = n;
  if (ec || req.method() == http::verb::head) {
    ex.keep_alive = keep && !ec;
    co_return ex;
  }

  // A body small enough for the memory tier is kept while it streams: a second hit is hot.
  bool promote = found.meta.body_size <= services_.memory.max_object_bytes();
  std::string kept;
  std::uint64_t offset = 0;
  while (offset < meta.body_size) {
    if (offset > 0) {
      chunk = co_await run_blocking(services_.store_pool,
                                    [&read_step, offset] { return read_step(offset); });
    }
    if (!chunk || chunk->empty()) {
      // The body vanished or is corrupt after the header went out: cut the response off so
      // the client cannot take a short body for a whole one.
      ex.keep_alive = false;
      co_return ex;
    }
    res.body().data = chunk->data();
    res.body().size = chunk->size();
    res.body().more = true;
    client_.expires_after(config.client_write_timeout);
    auto [wec, wn] = co_await http::async_write(client_, sr, use_tuple);
    if (wec == http::error::need_buffer) wec = {};
    ex.bytes += wn;
    if (wec) {
      ex.keep_alive = false;
      co_return ex;
    }
    offset += chunk->size();
    if (promote) kept += *chunk;
  }
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  auto [fec, fn] = co_await http::async_write(client_, sr, use_tuple);
  ex.bytes += fn;
  services_.stats.add_bytes_from_cache(offset);
  if (promote && !fec) {
    auto object = std::make_shared<cache::CachedObject>(cache::CachedObject{meta, std::move(kept)});
    services_.memory.put(key, std::move(object));
  }
  ex.keep_alive = keep && !fec;
  co_return ex;
}

namespace {

// Streams the client's request body into the origin request's serializer.
asio::awaitable<boost::system::error_code> relay_request_body(
    beast::tcp_stream& client, beast::flat_buffer& client_buffer, RequestParser& request,
    beast::tcp_stream& origin, http::request_serializer<http::buffer_body>& sr,
    http::request<http::buffer_body>& outgoing, const Config& config) {
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

}  // namespace

asio::awaitable<Exchange> Forwarder::fetch(const std::optional<Found>& stale) {
  const auto& req = request_.get();
  const Config& config = services_.config;
  cache::RequestView view{req.method(), req.base()};

  // The request as the origin sees it: origin-form target, end-to-end fields only.
  http::request<http::buffer_body> outgoing;
  outgoing.method_string(req.method_string());
  outgoing.target(target_.path);
  outgoing.version(11);
  copy_end_to_end_fields(req.base(), outgoing.base());
  outgoing.set(http::field::host, host_field(target_));
  outgoing.erase(http::field::expect);  // answered here, before the body is relayed
  // RFC 9110 §7.6.2: each hop forwarding TRACE or OPTIONS decrements Max-Forwards.
  bool hop_limited = req.method() == http::verb::trace || req.method() == http::verb::options;
  if (auto remaining = max_forwards(req.base()); hop_limited && remaining && *remaining > 0)
    outgoing.set(http::field::max_forwards, std::to_string(*remaining - 1));
  append_via(outgoing.base(), req.version(), config.visible_hostname);
  if (stale) {
    cache::add_conditional_headers(stale->meta, outgoing.base());
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

  // Connect (or reuse), send the header and body, read the response header. A reused idle
  // connection may have been closed by the origin just now: retry once on a fresh one when
  // nothing of the body was consumed.
  std::optional<OriginConnection> origin;
  std::optional<http::response_parser<http::buffer_body>> parser;
  cache::TimePoint request_time{};
  boost::system::error_code ec;
  for (int attempt = 0; attempt < 2; ++attempt) {
    // The retry must not get another idle connection that may be just as dead.
    bool fresh_only = attempt > 0;
    ConnectOutcome connected =
        co_await origins_.acquire(target_.host, target_.port, fresh_only, check_destination_);
    if (!connected.connection) {
      auto status = static_cast<http::status>(connect_error_status(connected.error));
      Exchange failed = co_await send_error(status, std::move(connected.message));
      if (connected.error == ConnectError::denied) failed.code = ResultCode::tcp_denied;
      co_return failed;
    }
    origin.reset();
    origin.emplace(std::move(*connected.connection));
    request_time = cache::Clock::now();
    http::request_serializer<http::buffer_body> sr{outgoing};
    origin->stream.expires_after(config.origin_read_timeout);
    std::size_t written = 0;
    std::tie(ec, written) = co_await http::async_write_header(origin->stream, sr, use_tuple);
    if (!ec) {
      if (has_body) {
        auto expect = req.find(http::field::expect);
        if (expect != req.end() && beast::iequals(expect->value(), "100-continue")) {
          static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
          client_.expires_after(config.client_write_timeout);
          co_await asio::async_write(client_, asio::buffer(kContinue), use_tuple);
        }
        ec = co_await relay_request_body(client_, client_buffer_, request_, origin->stream, sr,
                                         outgoing, config);
      } else {
        outgoing.body().data = nullptr;
        outgoing.body().more = false;
        std::tie(ec, written) = co_await http::async_write(origin->stream, sr, use_tuple);
      }
    }
    if (!ec) {
      // Interim 1xx responses are consumed here; only the final response is relayed.
      do {
        parser.emplace();
        parser->header_limit(config.max_response_header_size);
        parser->body_limit(boost::none);
        if (req.method() == http::verb::head) parser->skip(true);
        origin->stream.expires_after(config.origin_read_timeout);
        std::size_t n = 0;
        std::tie(ec, n) =
            co_await http::async_read_header(origin->stream, origin_buffer_, *parser, use_tuple);
      } while (!ec && parser->get().result_int() / 100 == 1 && parser->get().result_int() != 101);
    }
    bool retry = ec && origin->reused && !has_body && transient_connection_error(ec) &&
                 origin_buffer_.size() == 0;
    if (!retry) break;
    origin_buffer_.clear();
  }
  if (ec == http::error::body_limit) {
    std::string detail = fmt::format(
        "the request body is larger than max_request_body_size ({} "
        "bytes)",
        config.max_request_body_size);
    co_return co_await send_error(http::status::payload_too_large, std::move(detail));
  }
  if (!ec) {
    // RFC 9112 §6.3: a response whose length could be read two ways is neither relayed nor
    // stored, and its connection is not reused.
    if (FramingCheck framing = check_framing(parser->get().base()); !framing.ok) {
      std::string detail = fmt::format("origin {}:{} sent a malformed response: {}", target_.host,
                                       target_.port, framing.reason);
      co_return co_await send_error(http::status::bad_gateway, std::move(detail));
    }
  }
  if (ec) {
    bool timed_out = ec == beast::error::timeout;
    std::string detail =
        timed_out
            ? fmt::format("origin {}:{} did not answer in time", target_.host, target_.port)
            : fmt::format("origin {}:{} failed: {}", target_.host, target_.port, ec.message());
    co_return co_await send_error(
        timed_out ? http::status::gateway_timeout : http::status::bad_gateway, std::move(detail));
  }
  cache::TimePoint response_time = cache::Clock::now();
  auto& response = parser->get();
  unsigned status = response.result_int();

  Exchange ex;
  ex.direct = true;
  ex.peer = origin->peer;
  ex.status = status;
  ex.mime = media_type(response.base());
  bool keep = client_keep_alive() && request_.is_done();

  // RFC 9111 §4.3.3/§4.3.4: a 304 to our conditional request freshens the stored entry.
  if (stale && status == 304) {
    if (parser->keep_alive() && origin_buffer_.size() == 0)
      origins_.release(target_.host, target_.port, std::move(*origin));
    if (!cache::not_modified_selects(stale->meta, response.base())) {
      // RFC 9111 §4.3.4: a 304 naming another representation updates nothing: drop the
      // stored response and ask again without our conditions.
      const std::vector<std::string> replaced{*key_};
      co_await invalidate(replaced);
      const std::optional<Found> nothing_stored;
      co_return co_await fetch(nothing_stored);
    }
    cache::EntryMeta merged =
        cache::merge_not_modified(stale->meta, response.base(), request_time, response_time);
    // Already placed in the memory tier here, so serving does not place the old one again.
    Found refreshed{merged, nullptr, true};
    if (stale->object) {
      refreshed.object =
          std::make_shared<cache::CachedObject>(cache::CachedObject{merged, stale->object->body});
      services_.memory.put(*key_, refreshed.object);
    }
    auto& store = services_.store;
    const std::string& key = *key_;
    co_await run_blocking(services_.store_pool,
                          [&store, &key, &merged] { return store.update_meta(key, merged); });
    Exchange served =
        co_await serve_cached(refreshed, cache::current_age(merged, cache::Clock::now()),
                              ResultCode::tcp_refresh_unmodified);
    served.direct = true;
    served.peer = ex.peer;
    co_return served;
  }
  ex.code = stale ? ResultCode::tcp_refresh_modified : ResultCode::tcp_miss;
  // RFC 9111 §4.4: a non-error response to an unsafe method invalidates what it names.
  if (is_unsafe(req.method()) && status >= 200 && status < 400)
    invalidated_ = cache::invalidated_keys(target_.url, response.base());

  // Decide storing before anything is sent: the policy sees the origin's header as received.
  bool store_it = false;
  if (key_ && req.method() == http::verb::get && cache::request_cacheable(view).storable) {
    store_it = cache::response_storable(view, status, response.base(), services_.policy).storable;
    auto length = parser->content_length();
    if (length && *length > config.maximum_object_size) store_it = false;
  }

  http::response<http::buffer_body> out;
  out.result(status);
  out.reason(response.reason());
  out.version(req.version());
  copy_end_to_end_fields(response.base(), out.base());
  append_via(out.base(), req.version(), config.visible_hostname);
  bool no_content = has_no_content(req.method(), status);
  if (!no_content) {
    if (auto length = parser->content_length()) {
      out.content_length(*length);
    } else if (req.version() >= 11) {
      out.chunked(true);
    } else {
      keep = false;  // HTTP/1.0 client: the end of the body is the end of the connection
    }
  }
  out.keep_alive(keep);
  http::response_serializer<http::buffer_body> sr{out};
  client_.expires_after(config.client_write_timeout);
  auto [hec, hn] = co_await http::async_write_header(client_, sr, use_tuple);
  ex.bytes = hn;
  if (hec) co_return ex;

  // Nothing will be stored: requests waiting for this fetch must go to the origin themselves.
  if (!store_it && lease_) lease_->release();
  std::optional<CacheFill> fill;
  if (store_it) {
    fill.emplace(services_.store, services_.store_pool, services_.stats, *key_,
                 config.maximum_object_size);
  }
  // Commits the entry; called before the last piece reaches the client, so by the time a
  // client has the whole body, a repeat request finds it stored.
  auto commit_fill = [&]() -> asio::awaitable<void> {
    if (!fill || !fill->active()) co_return;
    cache::EntryMeta meta =
        cache::make_entry_meta(view, status, response.base(), request_time, response_time);
    if (co_await fill->commit(std::move(meta))) {
      // A replaced entry must not be served from memory any longer.
      services_.memory.erase(*key_);
    }
    // Requests waiting for this fetch can now find the entry.
    if (lease_) lease_->release();
  };

  std::vector<char> buffer(kRelayBufferBytes);
  std::uint64_t total = 0;
  bool complete = no_content || parser->is_done();
  while (!complete) {
    response.body().data = buffer.data();
    response.body().size = buffer.size();
    origin->stream.expires_after(config.origin_read_timeout);
    auto [rec, rn] = co_await http::async_read(origin->stream, origin_buffer_, *parser, use_tuple);
    if (rec == http::error::need_buffer) rec = {};
    if (rec) {
      // The origin failed mid-body: cut the client's response off and store nothing.
      if (fill) co_await fill->abandon();
      services_.stats.add_bytes_from_origin(total);
      ex.keep_alive = false;
      co_return ex;
    }
    std::size_t got = buffer.size() - response.body().size;
    complete = parser->is_done();
    total += got;
    if (fill) co_await fill->append(buffer.data(), got);
    if (complete) co_await commit_fill();
    if (got == 0) continue;
    out.body().data = buffer.data();
    out.body().size = got;
    out.body().more = true;
    client_.expires_after(config.client_write_timeout);
    auto [wec, wn] = co_await http::async_write(client_, sr, use_tuple);
    if (wec == http::error::need_buffer) wec = {};
    ex.bytes += wn;
    if (wec) {
      // The client left: whatever was read so far is not a whole body.
      if (fill) co_await fill->abandon();
      services_.stats.add_bytes_from_origin(total);
      ex.keep_alive = false;
      co_return ex;
    }
  }
  co_await commit_fill();  // bodyless responses never entered the loop
  services_.stats.add_bytes_from_origin(total);
  if (!no_content) {
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = false;
    client_.expires_after(config.client_write_timeout);
    auto [fec, fn] = co_await http::async_write(client_, sr, use_tuple);
    ex.bytes += fn;
    if (fec) keep = false;
  }
  if (parser->keep_alive() && origin_buffer_.size() == 0)
    origins_.release(target_.host, target_.port, std::move(*origin));
  if (stale && !store_it) {
    // RFC 9111 §4.3.3: the new response replaces the stored one; if it cannot be stored, the
    // old one must not be served any more either.
    const std::vector<std::string> replaced{*key_};
    co_await invalidate(replaced);
  }
  ex.keep_alive = keep;
  co_return ex;
}

}  // namespace cacheproxy
