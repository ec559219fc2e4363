// Forwarder, part 1: the decision. Look the request up (following a Vary marker to the
// selected variant), ask the policy, and serve, revalidate (collapsed per key), serve stale
// while revalidating in the background, or fetch; fall back to a stale entry when the origin
// fails and RFC 5861 or offline_mode allow it; invalidate after unsafe methods.
#include "proxy/forwarder.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <random>

#include "cache/cache_key.hpp"
#include "cache/cached_object.hpp"
#include "cache/header_fields.hpp"
#include "cache/refresh_patterns.hpp"
#include "cache/serving_stale.hpp"
#include "cache/variants.hpp"
#include "proxy/background_revalidation.hpp"
#include "proxy/exchange_helpers.hpp"
#include "proxy/offload.hpp"
#include "proxy/simple_response.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// A fresh nonce for a Vary marker: variants of an older marker are never looked up again.
std::uint64_t random_nonce() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return engine();
}

// Revalidations of one stored entry are collapsed under this key (distinct from the URL keys
// misses collapse under: a normalized URL never starts with a control character).
std::string revalidation_key(const std::string& store_key) { return "\x1e" + store_key; }

}  // namespace

Forwarder::Forwarder(Services& services, OriginPool& origins, beast::tcp_stream& client,
                     SocketDeadline& client_deadline, beast::flat_buffer& client_buffer,
                     RequestParser& request, const RequestTarget& target, bool check_destination)
    : services_(services),
      origins_(origins),
      client_(client),
      client_deadline_(client_deadline),
      client_buffer_(client_buffer),
      request_(request),
      target_(target),
      check_destination_(check_destination),
      policy_(services.policy) {
  // A URL already in normal form is its own key: pointed to, not copied (it outlives this).
  if (target.normal_url) {
    key_ = &target.url;
  } else if ((normalized_key_ = cache::normalize_cache_key(target.url))) {
    key_ = &*normalized_key_;
  }
  // Squid's refresh_pattern: per-URL heuristic freshness rules, matched on the URL as sent.
  policy_.heuristic =
      cache::heuristic_for(services.config.refresh_patterns, target.url, policy_.heuristic);
}

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

  // A miss for a URL that another request is already fetching (or still storing) waits for
  // that fetch and looks again (collapsed forwarding), so one origin request serves them all.
  // The same holds for a stale entry another request is revalidating. Only a GET that may
  // ask the origin leads such a fetch; other requests the cache can answer (HEAD,
  // only-if-cached) wait for one, so they find what it stores. Asked only once nothing fresh
  // is found, so a hit reads the request's Cache-Control no more often than the policy does.
  std::optional<bool> asks_only_if_cached;
  auto only_if_cached = [&] {
    if (!asks_only_if_cached) asks_only_if_cached = cache::only_if_cached(view);
    return *asks_only_if_cached;
  };
  auto may_lead = [&] { return req.method() == http::verb::get && !only_if_cached(); };
  // The loop only decides; answer() then starts what answers. Only the lookup and the wait
  // are awaited in here, which keeps this coroutine's frame small (see answer()).
  std::optional<Found> found;
  Answer answer = Answer::fetch;
  cache::Seconds age{0};
  // Each kind of wait happens once: for a fetch of the URL (a miss), then perhaps for a
  // revalidation of what that fetch stored.
  bool waited_for_fetch = false;
  bool waited_for_revalidation = false;
  while (use_cache) {
    // A look after a wait: this request's use was counted by its first look.
    const cache::Store::CountUse count = waited_for_fetch || waited_for_revalidation
                                             ? cache::Store::CountUse::no
                                             : cache::Store::CountUse::yes;
    found = co_await lookup(count);
    answer = Answer::fetch;
    std::string wait_key;
    if (found) {
      const cache::TimePoint now = cache::Clock::now();
      // A whole object (from memory, or small and read whole) has its facts parsed already.
      std::optional<cache::StoredFacts> parsed;
      const cache::StoredFacts& facts =
          found->object ? found->object->facts : parsed.emplace(cache::stored_facts(*found->meta));
      auto decision = cache::evaluate_entry(view, *found->meta, facts, now, policy_);
      age = decision.age;
      // Another variant (a stored response whose Vary does not match) is never a fallback.
      if (decision.action != cache::Action::serve &&
          decision.reason != cache::Reason::vary_mismatch) {
        stale_fallback_ = found;
      }
      if (decision.action == cache::Action::serve) {
        answer = Answer::serve;
        break;
      }
      if (decision.action == cache::Action::revalidate) {
        // RFC 5861 §3: answer from the stale entry now, revalidate in the background.
        if (cache::stale_while_revalidate_allowed(view, *found->meta, now, policy_)) {
          if (auto lease = services_.collapsed.try_lead(revalidation_key(found->key()))) {
            start_background_revalidation(services_, origins_, client_.get_executor(),
                                          target_, check_destination_, found->key(),
                                          *found->meta, found->object, req.base(),
                                          std::move(*lease));
          }
          answer = Answer::serve;
          break;
        }
        answer = Answer::revalidate;
        if (waited_for_revalidation) break;
        if (may_lead()) {
          if (auto lease = services_.collapsed.try_lead(revalidation_key(found->key()))) {
            lease_.emplace(std::move(*lease));
            break;
          }
        }
        // Another request revalidates this entry: wait for it, then look again.
        wait_key = revalidation_key(found->key());
        waited_for_revalidation = true;
      }
    }
    if (wait_key.empty()) {
      if (waited_for_fetch) break;
      if (may_lead()) {
        if (auto lease = services_.collapsed.try_lead(*key_)) {
          lease_.emplace(std::move(*lease));
          break;  // this request fetches; the others wait for it
        }
      }
      wait_key = *key_;
      waited_for_fetch = true;
    }
    const bool waited =
        co_await services_.collapsed.wait(wait_key, services_.config.collapsed_forwarding_timeout);
    // Nobody was fetching: a request that may not lead answers from what it found.
    if (!waited && !may_lead()) break;
  }
  replaces_nothing_ = use_cache && !found && !marker_;
  if (answer == Answer::fetch && use_cache && only_if_cached()) {
    answer = Answer::only_if_cached;
  }
  co_return co_await start_answer(answer, found, age);
}

// Not a coroutine: returns the coroutine that answers, so run() awaits one expression whatever
// the answer (GCC gives every co_await expression its own room in the frame).
asio::awaitable<Exchange> Forwarder::start_answer(Answer answer, const std::optional<Found>& found,
                                                  cache::Seconds age) {
  switch (answer) {
    case Answer::serve:
      return serve_cached(*found, age,
                          found->in_memory ? ResultCode::tcp_mem_hit : ResultCode::tcp_hit);
    case Answer::revalidate:
      return fetch(found);
    case Answer::only_if_cached:
      return send_error(http::status::gateway_timeout,
                        "only-if-cached: no usable response is stored");
    case Answer::fetch:
      break;
  }
  return fetch_and_invalidate();
}

asio::awaitable<Exchange> Forwarder::fetch_and_invalidate() {
  // Named, not a temporary: GCC 12 mishandles temporaries in co_await expressions.
  const std::optional<Found> nothing_stored;
  Exchange ex = co_await fetch(nothing_stored);
  if (!invalidated_.empty()) co_await invalidate(invalidated_);
  co_return ex;
}

Forwarder::Found Forwarder::found_object(std::string variant_key, cache::CachedObjectPtr object,
                                         bool in_memory) const {
  std::shared_ptr<const cache::EntryMeta> meta(object, &object->meta);
  return Found{key_, std::move(variant_key), std::move(meta), std::move(object), in_memory};
}

asio::awaitable<std::optional<Forwarder::Found>> Forwarder::lookup(cache::Store::CountUse count) {
  marker_.reset();
  const Fields& request_fields = request_.get().base();
  const bool counted = count == cache::Store::CountUse::yes;
  // Recency for the disk tier's eviction, handed to the store in batches: nothing waits.
  auto touch = [this, counted](const std::string& key) {
    if (counted) services_.shared.recency->record(key);
  };
  if (auto object = services_.memory.get(*key_)) {
    touch(*key_);
    if (!cache::is_vary_marker(object->meta)) co_return found_object({}, object, true);
    // RFC 9111 §4.1: the URL has variants; the request's nominated fields select one.
    marker_ = object->meta;
    std::string variant = cache::variant_key(*key_, *marker_, request_fields);
    if (auto held = services_.memory.get(variant)) {
      touch(variant);
      co_return found_object(std::move(variant), held, true);
    }
  }
  auto& store = services_.store;
  // A URL never stored (most misses) is known from memory: no trip to the store's threads.
  if (counted && !marker_ && store.quick_miss(*key_)) co_return std::nullopt;
  const std::string& url_key = *key_;
  std::optional<cache::EntryMeta>& marker = marker_;
  std::optional<Found> found = co_await run_blocking(
      services_.store_pool,
      [this, &store, &url_key, &marker, &request_fields, count]() -> std::optional<Found> {
        // Each key is looked up once: a lookup is a use, and counting a disk hit twice
        // ranked entries served from disk (larger ones, which the memory tier keeps less)
        // above those served from memory (found on the BU trace: 0.2 points of hits).
        std::string variant;  // stays empty for an entry under the URL's key
        std::optional<cache::EntryMeta> meta;
        if (marker) {
          variant = cache::variant_key(url_key, *marker, request_fields);
          meta = store.lookup(variant, count);
        } else {
          meta = store.lookup(url_key, count);
          if (!meta) return std::nullopt;
          if (cache::is_vary_marker(*meta)) {
            marker = std::move(*meta);
            variant = cache::variant_key(url_key, *marker, request_fields);
            meta = store.lookup(variant, count);
          }
        }
        const std::string& key = variant.empty() ? url_key : variant;
        // A marker under a variant key cannot happen unless stored by mistake: not servable.
        if (!meta || cache::is_vary_marker(*meta)) return std::nullopt;
        if (meta->body_size > exchange::kStoreReadBytes) {
          return Found{key_, std::move(variant),
                       std::make_shared<const cache::EntryMeta>(std::move(*meta)), nullptr,
                       false};
        }
        // Small bodies (most of them) are read in the same call: one hop to the store, and no
        // window in which a concurrent replacement could cut the response short.
        std::optional<std::string> body =
            store.read_body(key, *meta, 0, exchange::kStoreReadBytes);
        if (!body || body->size() != meta->body_size) return std::nullopt;  // replaced: a miss
        auto object = cache::make_cached_object(std::move(*meta), std::move(*body));
        return found_object(std::move(variant), std::move(object), false);
      });
  // Keep a marker found on disk in memory, so the next lookup of the URL starts there.
  if (marker_ && !services_.memory.get(*key_)) {
    services_.memory.put(*key_,
                         cache::make_cached_object(*marker_, {}));
  }
  co_return found;
}

std::string Forwarder::storage_key(const Fields& response_headers,
                                   std::optional<cache::EntryMeta>& new_marker) {
  if (cache::vary_field_names(response_headers).empty()) return *key_;
  const Fields& request_fields = request_.get().base();
  if (marker_ && cache::marker_fits(*marker_, response_headers)) {
    return cache::variant_key(*key_, *marker_, request_fields);
  }
  // No marker yet, or the origin now varies on other fields: a new generation of variants.
  new_marker = cache::make_vary_marker(response_headers, random_nonce(), cache::Clock::now());
  return cache::variant_key(*key_, *new_marker, request_fields);
}

asio::awaitable<void> Forwarder::invalidate(const std::vector<std::string>& keys) {
  // Erasing a URL's key erases its Vary marker too, and with it every variant (their keys
  // carry the marker's nonce, which no later marker has: see cache/variants.hpp). The
  // variants' own records are erased from the store as well, so they do not linger on disk
  // until eviction; in the memory tier they are unreachable and age out of its LRU order.
  for (const std::string& key : keys) services_.memory.erase(key);
  auto& store = services_.store;
  co_await run_blocking(services_.store_pool, [&store, &keys] {
    for (const std::string& key : keys) {
      store.erase(key);
      store.erase_prefix(cache::variants_prefix(key));
    }
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

asio::awaitable<Exchange> Forwarder::fetch(const std::optional<Found>& stale) {
  OriginReply reply;
  co_await send_to_origin(stale, reply);
  const bool origin_error =
      reply.parser ? reply.parser->get().result_int() >= 500 : reply.origin_failed;
  // RFC 5861 §4 and RFC 9111 §4.2.4: the origin failed; a stale entry may answer instead.
  if (origin_error && stale_fallback_) {
    const auto& req = request_.get();
    cache::RequestView view{req.method(), req.base()};
    const cache::TimePoint now = cache::Clock::now();
    if (cache::stale_if_error_allowed(view, *stale_fallback_->meta, now, policy_,
                                      services_.config.offline_mode)) {
      // Taken out first: serving may fall back to fetch() if the body vanished.
      const Found fallback = std::move(*stale_fallback_);
      stale_fallback_.reset();
      reply.origin.reset();  // an unread 5xx body: the connection is not reused
      Exchange served = co_await serve_cached(fallback, cache::current_age(*fallback.meta, now),
                                              ResultCode::tcp_refresh_fail_old);
      served.direct = true;
      co_return served;
    }
  }
  if (!reply.parser) {
    // RFC 9111 §5.2.2.2: a stale must-revalidate (proxy-revalidate, s-maxage) entry that
    // could not be revalidated: 504 rather than the connect error's 502.
    if (reply.unreachable && stale_fallback_ &&
        cache::gateway_timeout_when_unreachable(*stale_fallback_->meta, cache::Clock::now(),
                                                policy_)) {
      reply.error_status = http::status::gateway_timeout;
      reply.error_detail = "the stored response must be revalidated (must-revalidate): " +
                           reply.error_detail;
    }
    Exchange failed = co_await send_error(reply.error_status, std::move(reply.error_detail));
    if (reply.denied) failed.code = ResultCode::tcp_denied;
    co_return failed;
  }
  co_return co_await relay_reply(reply, stale);
}

}  // namespace cacheproxy
