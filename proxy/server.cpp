#include "proxy/server.hpp"

#include <fmt/format.h>

#include <pthread.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <thread>

#include "cache/background_thread.hpp"
#include "cache/leveldb_store.hpp"
#include "proxy/client_session.hpp"
#include "proxy/origin_pool.hpp"
#include "proxy/socket_deadlines.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// After an accept error such as EMFILE, wait before trying again instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(50);

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, Services& services,
                                  OriginPool& origins, SocketDeadlines& deadlines) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
    if (!acceptor.is_open()) co_return;
    if (ec) {
      asio::steady_timer pause(acceptor.get_executor(), kAcceptRetryDelay);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto peer = socket.remote_endpoint(ec);
    if (ec) continue;  // already gone
    ConnectionLimiter::Refusal refusal;
    std::optional<ConnectionLimiter::Ticket> ticket =
        services.connections.admit(peer.address(), &refusal);
    if (!ticket) {
      asio::co_spawn(acceptor.get_executor(),
                     refuse_client_connection(std::move(socket), services, refusal),
                     asio::detached);
      continue;
    }
    asio::co_spawn(acceptor.get_executor(),
                   run_client_session(std::move(socket), services, origins, deadlines,
                                      std::move(*ticket)),
                   asio::detached);
  }
}

// Closes expired idle origin connections every half idle timeout (as the live config says).
asio::awaitable<void> sweep_loop(OriginPool& origins, const LiveConfig& live_config) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto idle_timeout = live_config.get()->origin_idle_timeout;
    auto period = std::max<std::chrono::milliseconds>(idle_timeout / 2, std::chrono::seconds(1));
    timer.expires_after(period);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    origins.sweep();
  }
}

// Samples the counters every kTrafficSamplePeriod for the live page's charts and windows.
asio::awaitable<void> sample_loop(const Stats& stats, TrafficHistory& history) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(kTrafficSamplePeriod);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
    history.record(TrafficSample::of(stats.snapshot(), std::chrono::system_clock::now()));
  }
}

}  // namespace

struct Server::NetworkThread {
  NetworkThread(const LiveConfig& config, Stats& stats) : origins(ioc, config, stats) {}
  // Before ioc: the sessions the io_context destroys unlink their deadlines from it.
  SocketDeadlines deadlines;
  asio::io_context ioc{1};
  OriginPool origins;
  std::vector<tcp::acceptor> acceptors;
  std::thread thread;
};

Server::Server(Config config) : config_(std::move(config)) {}

Server::~Server() { stop(); }

std::string Server::start() {
  std::error_code fs_error;
  std::filesystem::create_directories(config_.cache_dir, fs_error);
  if (fs_error)
    return fmt::format("cannot create cache_dir '{}': {}", config_.cache_dir, fs_error.message());
  std::string error;
  // Before any storage thread starts (the store's own, LevelDB's, the committer, the log's).
  cache::set_background_nice(config_.storage_nice);
  cache::LevelDbStoreOptions options;
  options.directory = config_.cache_dir;
  options.budget_bytes = config_.cache_size;
  options.eviction_policy = config_.cache_replacement_policy;
  store_ = cache::open_leveldb_store(options, &error);
  if (!store_) return fmt::format("cannot open the cache in '{}': {}", config_.cache_dir, error);
  memory_ = std::make_unique<cache::MemoryTier>(config_.memory_cache_size);
  store_pool_ = std::make_unique<asio::thread_pool>(config_.store_threads);
  access_log_ = std::make_unique<AccessLog>(config_.access_log, &error);
  if (!error.empty()) return error;

  shared_ = std::make_unique<SharedState>(config_);
  recency_ = std::make_unique<RecencyRecorder>(*store_, *store_pool_);
  shared_->recency = recency_.get();
  committer_ = std::make_unique<GroupCommitter>(*store_);
  shared_->committer = committer_.get();
  if (!config_.auth_htpasswd.empty()) {
    auto users = Htpasswd::load(config_.auth_htpasswd, &error);
    if (!users) return fmt::format("auth_htpasswd: {}", error);
    authenticator_ = std::make_unique<Authenticator>(std::move(*users), config_.auth_realm,
                                                     config_.auth_cache_ttl);
    shared_->authenticator = authenticator_.get();
  }
  services_ = std::make_unique<Services>(shared_->live_config.get(), *store_, *memory_,
                                         *store_pool_, *access_log_, stats_, *shared_);
  // The first sample: windows over a history shorter than they are start here.
  shared_->history.record(TrafficSample::of(stats_.snapshot(), shared_->started));

  unsigned count =
      config_.threads != 0 ? config_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < count; ++i)
    threads_.push_back(std::make_unique<NetworkThread>(shared_->live_config, stats_));

  // Every thread listens on every address; the kernel spreads connections across them.
  for (const ListenAddress& listen : config_.listen) {
    boost::system::error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address(listen.host, ec), listen.port);
    if (ec) return fmt::format("listen: invalid address {}", listen.host);
    for (auto& thread : threads_) {
      tcp::acceptor acceptor(thread->ioc);
      acceptor.open(endpoint.protocol(), ec);
      if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) {
        int one = 1;
        ::setsockopt(acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        acceptor.bind(endpoint, ec);
      }
      if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec)
        return fmt::format("cannot listen on {}:{}: {}", listen.host, endpoint.port(),
                           ec.message());
      // Port 0 asks the kernel for a free port; the other threads must then share that one.
      endpoint.port(acceptor.local_endpoint().port());
      thread->acceptors.push_back(std::move(acceptor));
    }
    ports_.push_back(endpoint.port());
  }
  // Port 0 became a real port: the config in force says which, so the PAC file names it and a
  // reload compares against it.
  for (std::size_t i = 0; i < ports_.size(); ++i) config_.listen[i].port = ports_[i];
  shared_->live_config.set(std::make_shared<const Config>(config_));
  services_ = std::make_unique<Services>(shared_->live_config.get(), *store_, *memory_,
                                         *store_pool_, *access_log_, stats_, *shared_);
  for (auto& thread : threads_) {
    for (auto& acceptor : thread->acceptors) {
      asio::co_spawn(thread->ioc,
                     accept_loop(acceptor, *services_, thread->origins, thread->deadlines),
                     asio::detached);
    }
    asio::co_spawn(thread->ioc, thread->deadlines.run(), asio::detached);
    asio::co_spawn(thread->ioc, sweep_loop(thread->origins, shared_->live_config), asio::detached);
  }
  asio::co_spawn(threads_.front()->ioc, sample_loop(stats_, shared_->history), asio::detached);
  for (auto& thread : threads_) {
    thread->thread = std::thread([t = thread.get()] {
      // Named as the storage threads are (cache/background_thread.hpp), for top -H.
      (void)pthread_setname_np(pthread_self(), "cp-net");
      t->ioc.run();
    });
  }
  running_ = true;
  return {};
}

void Server::stop() {
  if (!running_) {
    threads_.clear();
    return;
  }
  running_ = false;
  for (auto& thread : threads_) {
    asio::post(thread->ioc, [t = thread.get()] {
      boost::system::error_code ignored;
      for (auto& acceptor : t->acceptors) acceptor.close(ignored);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + live_config()->shutdown_timeout;
  while (services_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& thread : threads_) {
    asio::post(thread->ioc, [t = thread.get()] {
      t->origins.clear();
      t->ioc.stop();
    });
  }
  for (auto& thread : threads_) thread->thread.join();
  recency_->close();  // the last uses reach the store while its pool still runs
  // Blocking calls still running post their completions to the stopped io_contexts, which
  // must therefore outlive them; then the io_contexts go, destroying the suspended sessions,
  // and only then the store they used.
  store_pool_->join();
  committer_->stop();
  authenticator_.reset();  // joins its thread, whose completions also go to the io_contexts
  threads_.clear();
  shared_->recency = nullptr;
  recency_.reset();  // its timer belongs to the pool: gone first
  store_pool_.reset();
  shared_->committer = nullptr;
  committer_.reset();
  services_.reset();
  store_.reset();
}

std::shared_ptr<const Config> Server::live_config() const {
  if (!shared_) return std::make_shared<const Config>(config_);
  return shared_->live_config.get();
}

std::vector<std::string> Server::reload(Config loaded) {
  std::vector<std::string> notes;
  if (!running_) return {"not running: nothing to reload"};
  std::shared_ptr<const Config> running = shared_->live_config.get();
  for (const std::string& name : settings_needing_restart(*running, loaded))
    notes.push_back(fmt::format("{} changed: needs a restart; the running value stays", name));
  // What was bound and opened at start stays as it is, and the live config says so (the PAC
  // file names the listen address, /stats the cache folder).
  loaded.listen = running->listen;
  loaded.cache_dir = running->cache_dir;
  loaded.threads = running->threads;
  loaded.store_threads = running->store_threads;
  loaded.storage_nice = running->storage_nice;
  if (loaded.access_log != running->access_log) {
    if (std::string error = access_log_->reopen(loaded.access_log); !error.empty()) {
      notes.push_back(fmt::format("{}; still logging to '{}'", error, running->access_log));
      loaded.access_log = running->access_log;
    }
  }
  if (loaded.cache_size != running->cache_size) store_->set_budget(loaded.cache_size);
  if (loaded.memory_cache_size != running->memory_cache_size)
    memory_->set_capacity(loaded.memory_cache_size);
  shared_->connections.set_limits(loaded.max_connections, loaded.max_connections_per_client);
  shared_->live_config.set(std::make_shared<const Config>(std::move(loaded)));
  return notes;
}

std::string Server::reopen_logs() {
  if (!access_log_) return {};
  return access_log_->reopen(live_config()->access_log);
}

}  // namespace cacheproxy
