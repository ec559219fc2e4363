// Forwarder, part 2: answering from a stored entry — whole objects from memory (or read with
// their metadata), larger disk entries streamed from the store in steps.
#include <boost/asio/post.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/write.hpp>

#include "proxy/exchange_helpers.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/offload.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using exchange::kStoreStreamBytes;
using exchange::media_type;
using exchange::use_tuple;

asio::awaitable<Exchange> Forwarder::serve_cached(const Found& found, cache::Seconds age,
                                                  ResultCode code) {
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
  if (!found.in_memory) services_.memory.put(found.key, found.object);
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
  const std::string& key = found.key;
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
}  // namespace cacheproxy
