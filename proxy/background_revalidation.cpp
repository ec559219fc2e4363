#include "proxy/background_revalidation.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <vector>

#include "cache/cached_object.hpp"
#include "cache/header_fields.hpp"
#include "cache/policy.hpp"
#include "cache/variants.hpp"
#include "proxy/cache_fill.hpp"
#include "proxy/exchange_helpers.hpp"
#include "proxy/header_read.hpp"
#include "proxy/in_flight.hpp"
#include "proxy/logging.hpp"
#include "proxy/message_checks.hpp"
#include "proxy/offload.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using exchange::use_tuple;

namespace {

// Everything the detached coroutine needs, owned by it: the client's exchange is long gone.
struct Job {
  Services services;  // a copy: the session that started the job may end first
  OriginPool& origins;
  RequestTarget target;
  bool check_destination;
  std::string key;
  cache::EntryMeta stale;
  cache::CachedObjectPtr object;
  Fields request_fields;
  CollapsedFetches::Lease lease;
};

asio::awaitable<void> erase_entry(Job& job) {
  job.services.memory.erase(job.key);
  auto& store = job.services.store;
  const std::string& key = job.key;
  co_await run_blocking(job.services.store_pool, [&store, &key] {
    store.erase(key);
    return true;
  });
}

asio::awaitable<void> revalidate(std::shared_ptr<Job> job) {
  InFlight in_flight(job->services.in_flight);
  const Config& config = job->services.config;
  http::request<http::empty_body, Fields> outgoing{http::verb::get, job->target.path, 11};
  exchange::copy_end_to_end_fields(job->request_fields, outgoing.base());
  outgoing.set(http::field::host, exchange::host_field(job->target));
  outgoing.erase(http::field::expect);
  outgoing.erase(http::field::range);
  append_via(outgoing.base(), 11, config.visible_hostname);
  cache::add_conditional_headers(job->stale, outgoing.base());
  outgoing.keep_alive(true);
  job->services.stats.count_revalidation();

  ConnectOutcome connected = co_await job->origins.acquire(
      job->target.host, job->target.port, /*fresh_only=*/false, job->check_destination);
  if (!connected.connection) co_return;  // the stale entry stays; a later request retries
  OriginConnectionPtr origin = std::move(connected.connection);
  // One deadline for the whole job: tcp_stream keeps it for every operation that follows.
  origin->stream.expires_after(config.background_revalidation_timeout);
  const cache::TimePoint request_time = cache::Clock::now();
  auto [wec, wn] = co_await http::async_write(origin->stream, outgoing, use_tuple);
  if (wec) co_return;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body, FieldsAllocator<char>>> reader;
  boost::system::error_code ec;
  do {  // interim 1xx responses are skipped
    reader.emplace();
    reader->header_limit(config.max_response_header_size);
    reader->body_limit(boost::none);
    std::size_t n = 0;
    std::tie(ec, n) = co_await read_header(origin->stream, buffer, *reader);
  } while (!ec && reader->get().result_int() / 100 == 1);
  if (ec || !check_framing(reader->get().base()).ok) co_return;
  http::response_parser<http::buffer_body, FieldsAllocator<char>>& parser = *reader;
  const cache::TimePoint response_time = cache::Clock::now();
  auto& response = parser.get();
  const unsigned status = response.result_int();
  Services& services = job->services;

  // RFC 9111 §4.3.4: the entry is fresh again.
  if (status == 304) {
    cache::EntryMeta merged =
        cache::merge_not_modified(job->stale, response.base(), request_time, response_time);
    if (job->object) {
      services.memory.put(job->key, cache::make_cached_object(merged, job->object->body));
    }
    auto& store = services.store;
    const std::string& key = job->key;
    co_await run_blocking(services.store_pool,
                          [&store, &key, &merged] { return store.update_meta(key, merged); });
    if (parser.keep_alive() && buffer.size() == 0) {
      job->origins.release(job->target.host, job->target.port, std::move(origin));
    }
    co_return;
  }
  // RFC 5861 §4 spirit: an origin error leaves the stale entry for stale-if-error.
  if (status >= 500) co_return;

  // RFC 9111 §4.3.3: a full response replaces the entry, when it can be stored under the same
  // key (same Vary); otherwise the stale entry goes and the next request fetches.
  Fields request_fields = job->request_fields;
  cache::RequestView view{http::verb::get, request_fields};
  bool same_variant = cache::vary_field_names(response.base()) ==
                      cache::vary_field_names(job->stale.headers);
  auto length = parser.content_length();
  bool store_it =
      same_variant &&
      cache::response_storable(view, status, response.base(), services.policy).storable &&
      !(length && *length > config.maximum_object_size);
  if (!store_it) {
    co_await erase_entry(*job);
    co_return;
  }
  CacheFill fill(services.store, services.store_pool, *services.shared.committer, services.stats,
                 job->key,
                 config.maximum_object_size);
  std::vector<char> chunk(exchange::kRelayBufferBytes);
  while (!parser.is_done()) {
    response.body().data = chunk.data();
    response.body().size = chunk.size();
    auto [rec, rn] = co_await http::async_read(origin->stream, buffer, parser, use_tuple);
    if (rec == http::error::need_buffer) rec = {};
    if (rec) {
      co_await fill.abandon();
      co_await erase_entry(*job);
      co_return;
    }
    std::size_t got = chunk.size() - response.body().size;
    co_await fill.append(chunk.data(), got);
  }
  cache::EntryMeta meta =
      cache::make_entry_meta(view, status, response.base(), request_time, response_time);
  if (co_await fill.commit(std::move(meta))) {
    services.memory.erase(job->key);
  } else {
    co_await erase_entry(*job);  // too large after all: the stale entry must not linger
  }
  if (parser.keep_alive() && buffer.size() == 0) {
    job->origins.release(job->target.host, job->target.port, std::move(origin));
  }
}

}  // namespace

void start_background_revalidation(Services& services, OriginPool& origins,
                                   const asio::any_io_executor& executor,
                                   const RequestTarget& target, bool check_destination,
                                   const std::string& key, const cache::EntryMeta& stale,
                                   const cache::CachedObjectPtr& object,
                                   const Fields& request_fields,
                                   CollapsedFetches::Lease lease) {
  auto job = std::make_shared<Job>(Job{services, origins, target, check_destination, key, stale,
                                       object, request_fields, std::move(lease)});
  asio::co_spawn(executor, revalidate(std::move(job)), asio::detached);
}

}  // namespace cacheproxy
