// Forwarder, part 2: answering from a stored entry — whole objects from memory (or read with
// their metadata), larger disk entries streamed from the store in steps.
#include <boost/asio/post.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>
#include <random>

#include "cache/cached_object.hpp"
#include "cache/header_fields.hpp"
#include "cache/preconditions.hpp"
#include "cache/range.hpp"
#include "proxy/exchange_helpers.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/offload.hpp"
#include "proxy/whole_object_response.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using exchange::kStoreStreamBytes;
using exchange::use_tuple;

// Not a coroutine: it picks the coroutine that answers, so a hit allocates no frame for it.
asio::awaitable<Exchange> Forwarder::serve_cached(const Found& found, cache::Seconds age,
                                                  ResultCode code) {
  const auto& req = request_.get();
  // RFC 9111 §4.3.2: the client's own validator matches the stored response: 304, no body.
  // RFC 9110 §13.2.2 evaluates these preconditions before Range.
  if (cache::client_has_current(cache::RequestView{req.method(), req.base()}, *found.meta)) {
    return serve_not_modified(found, age, code);
  }
  // RFC 9110 §14.2: Range applies to GET only; a stored complete 200 answers it.
  if (req.method() == http::verb::get && req.count(http::field::range) > 0) {
    return serve_range_request(found, age, code);
  }
  if (found.object) return serve_object(found, age, code);
  return serve_from_store(found, age, code);
}

asio::awaitable<Exchange> Forwarder::serve_not_modified(const Found& found, cache::Seconds age,
                                                        ResultCode code) {
  const auto& req = request_.get();
  http::response<http::empty_body, Fields> res{http::status::not_modified, req.version()};
  for (const auto& field : cache::not_modified_fields(*found.meta))
    res.insert(field.name_string(), field.value());
  if (!found.validated) {
    for (const std::string& name : cache::fields_withheld_unvalidated(*found.meta))
      res.erase(name);
  }
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

asio::awaitable<Exchange> Forwarder::serve_range_request(const Found& found, cache::Seconds age,
                                                         ResultCode code) {
  const cache::RangeDecision decision =
      cache::evaluate_range(request_.get().base(), *found.meta, found.meta->body_size);
  if (decision.outcome != cache::RangeOutcome::full) {
    co_return co_await serve_ranges(found, age, code, decision);
  }
  if (found.object) co_return co_await serve_object(found, age, code);
  co_return co_await serve_from_store(found, age, code);
}

namespace {

// The header of a response served from the cache: the stored fields (less those a qualified
// no-cache names, unless just revalidated: RFC 9111 §5.2.2.4), Age (RFC 9111 §5.1), our Via,
// framing by the stored body size.
template <class Body>
void prepare_cached_header(http::response<Body, Fields>& res, const cache::EntryMeta& meta,
                           bool validated, cache::Seconds age, unsigned version, bool keep_alive,
                           std::string_view visible_hostname) {
  res.version(version);
  res.result(meta.status);
  for (const auto& field : meta.headers) res.insert(field.name_string(), field.value());
  if (!validated) {
    for (const std::string& name : cache::fields_withheld_unvalidated(meta)) res.erase(name);
  }
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
  ex.status = found.meta->status;
  // Shares the object's media type (an aliasing pointer: no string, no allocation).
  ex.mime = std::shared_ptr<const std::string>(found.object, &found.object->media_type);
  bool keep = client_keep_alive() && request_.is_done();

  boost::system::error_code ec;
  std::size_t n = 0;
  const bool head_only = req.method() == http::verb::head;
  if (found.validated || !found.object->withholds_fields) {
    WholeObjectResponse response;
    response.version = req.version();
    response.age = age;
    response.keep_alive = keep;
    response.head_only = head_only;
    response.visible_hostname = config.visible_hostname;
    client_deadline_.expires_after(config.client_write_timeout);
    std::tie(ec, n) = co_await write_whole_object(client_.socket(), *found.object, response);
    client_deadline_.disarm();
  } else {
    client_.expires_after(config.client_write_timeout);
    std::tie(ec, n) = co_await write_object_withheld(found, age, keep);
  }
  if (!ec && !head_only) services_.stats.add_bytes_from_cache(found.object->body.size());
  // A disk hit is worth keeping hot; the tier refuses what is too large for it.
  if (!found.in_memory) services_.memory.put(found.key(), found.object);
  ex.bytes = n;
  ex.keep_alive = keep && !ec;
  co_return ex;
}

asio::awaitable<std::tuple<boost::system::error_code, std::size_t>>
Forwarder::write_object_withheld(const Found& found, cache::Seconds age, bool keep_alive) {
  // A qualified no-cache names fields that must be left out (RFC 9111 §5.2.2.4): rare enough
  // to build this one header field by field (in a frame of its own, which serve_object, on
  // every memory hit, does not carry).
  const auto& req = request_.get();
  http::response<http::span_body<const char>, Fields> res;
  prepare_cached_header(res, *found.meta, found.validated, age, req.version(), keep_alive,
                        services_.config.visible_hostname);
  if (req.method() == http::verb::head) {
    http::response_serializer<http::span_body<const char>, Fields> sr{res};
    co_return co_await http::async_write_header(client_, sr, use_tuple);
  }
  res.body() = {found.object->body.data(), found.object->body.size()};
  co_return co_await http::async_write(client_, res, use_tuple);
}

asio::awaitable<Exchange> Forwarder::serve_from_store(const Found& found, cache::Seconds age,
                                                      ResultCode code) {
  const auto& req = request_.get();
  const auto& config = services_.config;
  Exchange ex;
  ex.code = code;
  ex.status = found.meta->status;
  ex.set_mime(cache::media_type(found.meta->headers));
  bool keep = client_keep_alive() && request_.is_done();

  auto& store = services_.store;
  const std::string& key = found.key();
  const cache::EntryMeta& meta = *found.meta;
  // A body read in several steps is pinned before the first, so an entry evicted, replaced
  // or erased meanwhile stays readable to its end. The first step is read before anything
  // is sent: if the entry is already gone, this is simply a miss.
  auto read_step = [&store, &key, &meta](std::uint64_t offset) {
    return store.read_body(key, meta, offset, kStoreStreamBytes);
  };
  std::unique_ptr<cache::BodyPin> pin;
  std::optional<std::string> chunk;
  if (req.method() != http::verb::head && meta.body_size > 0) {
    chunk = co_await run_blocking(services_.store_pool, [&read_step, &store, &key, &meta, &pin] {
      if (meta.body_size > kStoreStreamBytes) {
        pin = store.pin_body(key, meta);
        if (!pin) return std::optional<std::string>();
      }
      return read_step(0);
    });
    if (!chunk || chunk->empty()) {
      const std::optional<Found> nothing_stored;
      co_return co_await fetch(nothing_stored);
    }
  }

  http::response<http::buffer_body, Fields> res;
  prepare_cached_header(res, *found.meta, found.validated, age, req.version(), keep,
                        config.visible_hostname);
  http::response_serializer<http::buffer_body, Fields> sr{res};
  client_.expires_after(config.client_write_timeout);
  auto [ec, n] = co_await http::async_write_header(client_, sr, use_tuple);
  ex.bytes = n;
  if (ec || req.method() == http::verb::head) {
    ex.keep_alive = keep && !ec;
    co_return ex;
  }

  // A body small enough for the memory tier is kept while it streams: a second hit is hot.
  bool promote = found.meta->body_size <= services_.memory.max_object_bytes();
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
    auto object = cache::make_cached_object(meta, std::move(kept));
    services_.memory.put(key, std::move(object));
  }
  ex.keep_alive = keep && !fec;
  co_return ex;
}
namespace {

// One piece of a 206 body: literal bytes (multipart part headers) or a range of the stored body.
struct Segment {
  std::string literal;
  std::optional<cache::ByteRange> range;
};

std::string multipart_boundary() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return fmt::format("cacheproxy-{:016x}", engine());
}

}  // namespace

asio::awaitable<Exchange> Forwarder::serve_ranges(const Found& found, cache::Seconds age,
                                                  ResultCode code,
                                                  const cache::RangeDecision& decision) {
  const auto& req = request_.get();
  const auto& config = services_.config;
  const cache::EntryMeta& meta = *found.meta;
  const std::uint64_t length = meta.body_size;
  Exchange ex;
  ex.code = code;
  ex.set_mime(cache::media_type(meta.headers));
  bool keep = client_keep_alive() && request_.is_done();

  http::response<http::buffer_body, Fields> res;
  prepare_cached_header(res, meta, found.validated, age, req.version(), keep,
                        config.visible_hostname);
  std::vector<Segment> segments;
  if (decision.outcome == cache::RangeOutcome::unsatisfiable) {
    // RFC 9110 §15.5.17: 416 names the current length; no representation data is sent.
    res.result(http::status::range_not_satisfiable);
    res.erase(http::field::content_type);
    res.erase(http::field::content_encoding);
    res.set(http::field::content_range, cache::unsatisfied_range(length));
    res.content_length(0);
  } else if (decision.ranges.size() == 1) {
    const cache::ByteRange& range = decision.ranges.front();
    res.result(http::status::partial_content);
    res.set(http::field::content_range, cache::content_range(range, length));
    res.content_length(range.size());
    segments.push_back({{}, range});
  } else {
    // RFC 9110 §14.6: several ranges as multipart/byteranges, each part with its own
    // Content-Type and Content-Range.
    const std::string boundary = multipart_boundary();
    const std::string part_type = std::string(meta.headers[http::field::content_type]);
    std::uint64_t total = 0;
    for (const cache::ByteRange& range : decision.ranges) {
      std::string head = fmt::format("\r\n--{}\r\n", boundary);
      if (!part_type.empty()) head += fmt::format("Content-Type: {}\r\n", part_type);
      head += fmt::format("Content-Range: {}\r\n\r\n", cache::content_range(range, length));
      total += head.size() + range.size();
      segments.push_back({std::move(head), std::nullopt});
      segments.push_back({{}, range});
    }
    std::string tail = fmt::format("\r\n--{}--\r\n", boundary);
    total += tail.size();
    segments.push_back({std::move(tail), std::nullopt});
    res.result(http::status::partial_content);
    res.set(http::field::content_type, "multipart/byteranges; boundary=" + boundary);
    res.content_length(total);
  }
  ex.status = res.result_int();

  http::response_serializer<http::buffer_body, Fields> sr{res};
  client_.expires_after(config.client_write_timeout);
  auto [ec, n] = co_await http::async_write_header(client_, sr, use_tuple);
  ex.bytes = n;
  if (ec) co_return ex;

  // Writes `size` bytes at `data` as the next piece of the body.
  auto write_piece = [&](const char* data, std::size_t size) -> asio::awaitable<bool> {
    res.body().data = const_cast<char*>(data);
    res.body().size = size;
    res.body().more = true;
    client_.expires_after(config.client_write_timeout);
    auto [wec, wn] = co_await http::async_write(client_, sr, use_tuple);
    if (wec == http::error::need_buffer) wec = {};
    ex.bytes += wn;
    co_return !wec;
  };
  auto& store = services_.store;
  const std::string& key = found.key();
  // A large disk entry is read in steps: pinned first, so it stays readable to the end even
  // if it is evicted, replaced or erased meanwhile. Gone already: its ranges are cut off
  // below like a body that vanished.
  std::unique_ptr<cache::BodyPin> pin;
  if (!found.object) {
    pin = co_await run_blocking(services_.store_pool,
                                [&store, &key, &meta] { return store.pin_body(key, meta); });
  }
  std::uint64_t sent = 0;
  for (const Segment& segment : segments) {
    bool ok = true;
    if (!segment.range) {
      ok = co_await write_piece(segment.literal.data(), segment.literal.size());
    } else if (found.object) {
      const cache::ByteRange range = *segment.range;
      ok = co_await write_piece(found.object->body.data() + range.first, range.size());
      sent += range.size();
    } else {
      // A large disk entry: read the range in steps (pinned above).
      std::uint64_t offset = segment.range->first;
      const std::uint64_t end = segment.range->last + 1;
      while (ok && offset < end) {
        std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(
            end - offset, exchange::kStoreStreamBytes));
        std::optional<std::string> chunk =
            co_await run_blocking(services_.store_pool, [&store, &key, &meta, offset, step] {
              return store.read_body(key, meta, offset, step);
            });
        // Gone or damaged after the header went out: cut off, never a short body.
        ok = chunk && !chunk->empty();
        if (ok) ok = co_await write_piece(chunk->data(), chunk->size());
        if (ok) offset += chunk->size();
      }
      sent += offset - segment.range->first;
    }
    if (!ok) {
      ex.keep_alive = false;
      co_return ex;
    }
  }
  res.body().data = nullptr;
  res.body().size = 0;
  res.body().more = false;
  auto [fec, fn] = co_await http::async_write(client_, sr, use_tuple);
  ex.bytes += fn;
  services_.stats.add_bytes_from_cache(sent);
  ex.keep_alive = keep && !fec;
  co_return ex;
}

}  // namespace cacheproxy
