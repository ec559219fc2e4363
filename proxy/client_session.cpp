#include "proxy/client_session.hpp"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>

#include "cache/header_fields.hpp"
#include "proxy/admin.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/header_read.hpp"
#include "proxy/in_flight.hpp"
#include "proxy/logging.hpp"
#include "proxy/message_checks.hpp"
#include "proxy/request_target.hpp"
#include "proxy/simple_response.hpp"
#include "proxy/tunnel.hpp"

namespace cacheproxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// How long a closing connection keeps draining client input; see lingering_close().
constexpr auto kLingerTime = std::chrono::seconds(2);

// The most storage a connection keeps for its next request's URL parts: a typical URL's, so
// most requests classify their target without allocating, and an idle connection stays small.
constexpr std::size_t kKeptTargetCapacity = 256;

bool is_loopback(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).is_loopback();
  return address.is_loopback();
}

class ClientSession {
 public:
  ClientSession(asio::ip::tcp::socket socket, Services& services, OriginPool& origins,
                SocketDeadlines& deadlines)
      : stream_(std::move(socket)),
        deadline_(deadlines, stream_.socket()),
        services_(services),
        origins_(origins) {
    boost::system::error_code ec;
    // Asynchronous operations work either way; non-blocking mode lets a memory hit be sent
    // at once without the thread ever waiting (write_now, eager_write.hpp).
    stream_.socket().non_blocking(true, ec);
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      client_address_ = endpoint.address().to_string();
      client_access_ = services.config.client_access.decide(endpoint.address());
      admin_access_ = services.config.admin_access.decide(endpoint.address());
      check_destination_ = services.config.destination_access_for_loopback_clients ||
                           !is_loopback(endpoint.address());
    }
    if (!client_access_.allowed) {
      log_line_limited("client_access", fmt::format("client {} denied by client_access rule '{}'",
                                                    client_address_, client_access_.rule));
    }
  }

  asio::awaitable<void> run() {
    const Config& config = services_.config;
    bool first = true;
    bool client_closes = false;  // the last request asked for the connection to close
    for (;;) {
      user_.clear();
      // The request's target and fields in memory the thread lends (cache/header_fields.hpp).
      RequestParser parser(std::piecewise_construct, std::make_tuple(),
                           std::make_tuple(FieldsAllocator<char>(&fields_arena_)));
      parser.header_limit(config.max_request_header_size);
      // Bodies are streamed, never held whole; the limit only bounds what a client may send.
      if (config.max_request_body_size != 0) {
        parser.body_limit(config.max_request_body_size);
      } else {
        parser.body_limit(boost::none);
      }
      // Read from the socket itself under the coarse deadline, not through the Beast stream
      // and its timer: this wait comes with every request (see socket_deadlines.hpp).
      deadline_.expires_after(first ? config.client_header_timeout : config.client_idle_timeout);
      // A response usually went out at once, without this coroutine suspending: the thread's
      // other ready connections go first (yield_turn).
      const bool yield_first = !first;
      first = false;
      auto [ec, n] =
          co_await read_header(stream_.socket(), buffer_, parser, yield_first, &read_memory_);
      deadline_.disarm();
      // Timed out: closed at once, as a Beast stream closes on its timeout (no lingering).
      if (deadline_.expired()) co_return;
      if (ec) {
        co_await answer_read_error(ec, parser);
        break;
      }
      auto started = std::chrono::steady_clock::now();
      InFlight in_flight(services_.in_flight);
      Exchange ex = co_await dispatch(parser);
      log(parser, ex, started);
      if (deadline_.expired()) co_return;  // a client that stopped reading a memory hit
      url_ = {};
      // An idle connection keeps no copy of the last URL's parts, only their strings' storage
      // for the next request's (a long URL's is given back: idle connections are many).
      target_.clear();
      if (target_.url.capacity() > kKeptTargetCapacity) target_ = RequestTarget{};
      // A body the exchange did not read would be parsed as the next request.
      if (!ex.keep_alive || !parser.is_done()) {
        client_closes = parser.is_done() && !parser.get().keep_alive();
        break;
      }
    }
    // A client that asked for the close (Connection: close, or HTTP/1.0 without keep-alive)
    // sends nothing more (RFC 9112 §9.6): if nothing of it is left unread, closing now cannot
    // reset the response away, and the lingering read (a wait and two more receives per
    // connection) is skipped.
    boost::system::error_code ec;
    if (client_closes && buffer_.size() == 0 && stream_.socket().available(ec) == 0 && !ec)
      co_return;  // the socket closes with the session
    co_await lingering_close();
  }

 private:
  // Closing a socket with unread input makes the kernel send a reset, which can destroy the
  // response just written (an error page for an oversized request, say) before the client
  // reads it. So: stop sending, then read and discard for a short while (RFC 9112 §9.6).
  asio::awaitable<void> lingering_close() {
    boost::system::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream_.expires_after(kLingerTime);
    std::array<char, 4096> sink;
    for (;;) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), use_tuple);
      if (ec) break;
    }
  }

  // A request refused before anything is forwarded.
  struct Refusal {
    SimpleResponse response;
    ResultCode code = ResultCode::none;
    bool close = false;  // the request's body (if any) will not be read
  };

  // Not a coroutine, like answer(): each picks the coroutine that answers, so the frames a
  // forwarded request allocates are small (Asio recycles frames up to about 1 KiB per thread;
  // larger ones go to malloc, and each costs one recycled block).
  asio::awaitable<Exchange> dispatch(RequestParser& parser) {
    const Config& config = services_.config;
    const auto& req = parser.get();
    classify_target(target_, req.method(), req.target(), config.listen, config.visible_hostname);
    url_ = target_.url.empty() ? std::string_view(req.target()) : std::string_view(target_.url);
    if (std::optional<Refusal> refusal = screen(parser, target_)) {
      return refuse(parser, std::move(*refusal));
    }
    bool forwarded = target_.kind == TargetKind::forward || target_.kind == TargetKind::connect;
    // Requests to the proxy itself (PAC, /stats) stay open: browsers fetch the PAC file
    // before they know they need credentials.
    if (forwarded && services_.authenticator != nullptr) return authenticate_then_answer(parser);
    return answer(parser);
  }

  asio::awaitable<Exchange> answer(RequestParser& parser) {
    const auto& req = parser.get();
    // RFC 9110 §7.6.2: TRACE and OPTIONS with Max-Forwards: 0 are answered by this proxy.
    bool hop_limited = req.method() == http::verb::trace || req.method() == http::verb::options;
    if (target_.kind == TargetKind::forward && hop_limited && max_forwards(req.base()) == 0u) {
      return reply(parser, answer_last_hop(req));
    }
    if (target_.kind == TargetKind::forward) return forward(parser);
    if (target_.kind == TargetKind::connect && parser.is_done()) {
      return run_tunnel(services_, origins_, stream_, buffer_, target_, req.version(),
                        check_destination_);
    }
    return reply(parser, answer_locally(req.method(), target_));
  }

  asio::awaitable<Exchange> forward(RequestParser& parser) {
    Forwarder forwarder(services_, origins_, stream_, deadline_, buffer_, parser, target_,
                        check_destination_);
    co_return co_await forwarder.run();
  }

  asio::awaitable<Exchange> refuse(RequestParser& parser, Refusal refusal) {
    bool allow_keep_alive = !refusal.close;
    Exchange ex = co_await reply(parser, std::move(refusal.response), allow_keep_alive);
    ex.code = refusal.code;
    co_return ex;
  }

  asio::awaitable<Exchange> authenticate_then_answer(RequestParser& parser) {
    std::string credentials(parser.get()[http::field::proxy_authorization]);
    Authenticator::Result auth = co_await services_.authenticator->check(std::move(credentials));
    if (!auth.ok) {
      // RFC 9110 §15.5.8: 407 with a challenge for the proxy's own credentials.
      SimpleResponse challenge =
          make_error(http::status::proxy_authentication_required,
                     "this proxy needs a user name and password (Proxy-Authorization: Basic)");
      challenge.extra_fields.emplace_back("Proxy-Authenticate",
                                          services_.authenticator->challenge());
      Exchange ex = co_await reply(parser, std::move(challenge));
      ex.code = ResultCode::tcp_denied;
      co_return ex;
    }
    user_ = std::move(auth.user);
    co_return co_await answer(parser);
  }

  // The final recipient's answer to TRACE (the request as received, RFC 9110 §9.3.8) or
  // OPTIONS (what this proxy supports, §9.3.7).
  SimpleResponse answer_last_hop(const http::request<http::buffer_body, Fields>& req) {
    SimpleResponse r;
    if (req.method() == http::verb::options) {
      r.extra_fields.emplace_back("Allow",
                                  "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT");
      return r;
    }
    r.content_type = "message/http";
    r.body = fmt::format("{} {} HTTP/{}.{}\r\n", req.method_string(), req.target(),
                         req.version() / 10, req.version() % 10);
    for (const auto& field : req.base()) {
      // Credentials are not echoed back (RFC 9110 §9.3.8).
      if (field.name() == http::field::authorization ||
          field.name() == http::field::proxy_authorization || field.name() == http::field::cookie)
        continue;
      r.body += fmt::format("{}: {}\r\n", field.name_string(), field.value());
    }
    r.body += "\r\n";
    return r;
  }

  // Access rules, limits and message sanity, checked before a request goes anywhere.
  std::optional<Refusal> screen(const RequestParser& parser, const RequestTarget& target) {
    const Config& config = services_.config;
    const auto& req = parser.get();
    if (!client_access_.allowed) {
      return Refusal{make_error(http::status::forbidden,
                                fmt::format("your address {} may not use this proxy (client_access "
                                            "rule '{}')",
                                            client_address_, client_access_.rule)),
                     ResultCode::tcp_denied, true};
    }
    if (FramingCheck framing = check_framing(req.base()); !framing.ok) {
      // RFC 9112 §6.3: such a message must not be forwarded; the connection is unusable.
      return Refusal{make_error(http::status::bad_request, framing.reason), ResultCode::none, true};
    }
    if (req.target().size() > config.max_request_line_size) {
      return Refusal{
          make_error(http::status::uri_too_long, fmt::format("the request target is longer than "
                                                             "max_request_line_size ({} bytes)",
                                                             config.max_request_line_size)),
          ResultCode::none, true};
    }
    auto length = parser.content_length();
    if (config.max_request_body_size != 0 && length && *length > config.max_request_body_size) {
      return Refusal{make_error(http::status::payload_too_large,
                                fmt::format("the request body is larger than "
                                            "max_request_body_size ({} bytes)",
                                            config.max_request_body_size)),
                     ResultCode::none, true};
    }
    if (target.kind == TargetKind::local && !local_page_allowed(target.path, admin_access_)) {
      return Refusal{admin_denied(client_address_, admin_access_), ResultCode::tcp_denied, false};
    }
    bool forwarded = target.kind == TargetKind::forward || target.kind == TargetKind::connect;
    if (forwarded && via_names_self(req.base(), config.visible_hostname)) {
      return Refusal{make_error(http::status::loop_detected,
                                fmt::format("this request already passed through {} (Via): "
                                            "forwarding it again would loop",
                                            config.visible_hostname)),
                     ResultCode::none, false};
    }
    return std::nullopt;
  }

  SimpleResponse answer_locally(http::verb method, const RequestTarget& target) {
    switch (target.kind) {
      case TargetKind::local:
        return handle_local_request(services_, method, target.path);
      case TargetKind::https_absolute:
        return make_error(http::status::bad_request,
                          "https:// URLs go through CONNECT: set this proxy as the HTTPS proxy "
                          "too, and the browser will tunnel them");
      case TargetKind::connect:  // with a body: RFC 9110 §9.3.6 gives it no meaning
        return make_error(http::status::bad_request, "a CONNECT request has no content");
      case TargetKind::forward:
      case TargetKind::invalid:
        break;
    }
    return make_error(http::status::bad_request, target.reason);
  }

  // Takes the response by value: callers that are not coroutines pass temporaries, and the
  // coroutine runs after they are gone.
  asio::awaitable<Exchange> reply(RequestParser& parser, SimpleResponse response,
                                  bool allow_keep_alive = true) {
    const auto& req = parser.get();
    bool keep = allow_keep_alive && req.keep_alive() && parser.is_done();
    Exchange ex = co_await send_simple(stream_, req.version(), keep, response,
                                       services_.config.visible_hostname,
                                       services_.config.client_write_timeout);
    unsigned status = static_cast<unsigned>(response.status);
    if (status >= 500) services_.stats.count_error();
    if (status >= 400 && status < 500) services_.stats.count_client_error();
    co_return ex;
  }

  // A request header that could not be read: answer what can be answered, then close.
  asio::awaitable<void> answer_read_error(boost::system::error_code ec, RequestParser& parser) {
    // The client went away or sat idle: nothing to answer.
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted)
      co_return;
    auto status = http::status::bad_request;
    if (ec == http::error::body_limit) {
      status = http::status::payload_too_large;  // Content-Length over max_request_body_size
    } else if (ec == http::error::header_limit) {
      // A request line that alone overflows is a long URI (414), not long fields (431). Beast
      // may already have consumed a complete request line, leaving field lines in the buffer.
      std::string_view pending(static_cast<const char*>(buffer_.data().data()),
                               buffer_.data().size());
      bool starts_with_request_line = pending.find(' ') < pending.find(':');
      bool line_complete = pending.substr(0, services_.config.max_request_line_size).find("\r\n") !=
                           std::string_view::npos;
      bool long_line = starts_with_request_line && !line_complete;
      status =
          long_line ? http::status::uri_too_long : http::status::request_header_fields_too_large;
    }
    auto started = std::chrono::steady_clock::now();
    SimpleResponse response =
        make_error(status, fmt::format("cannot parse the request: {}", ec.message()));
    Exchange ex =
        co_await send_simple(stream_, 11, false, response, services_.config.visible_hostname,
                             services_.config.client_write_timeout);
    services_.stats.count_client_error();
    url_ = "error:invalid-request";
    log(parser, ex, started);
  }

  void log(const RequestParser& parser, const Exchange& ex,
           std::chrono::steady_clock::time_point started) {
    // One clock read for the log line and the latency histogram: it comes with every request.
    const auto took = std::chrono::steady_clock::now() - started;
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(took);
    services_.stats.count_result(ex.code);
    AccessRecord r;
    r.finished = std::chrono::system_clock::now();
    r.elapsed = elapsed;
    r.client = client_address_;
    r.code = ex.code;
    r.status = ex.status;
    r.bytes = ex.bytes;
    r.method = parser.is_header_done() ? parser.get().method_string() : "NONE";
    r.url = url_;
    r.user = user_;  // the name only: the password is never logged
    r.hierarchy = ex.direct ? "HIER_DIRECT" : "HIER_NONE";
    r.peer = ex.peer;
    r.mime = ex.mime_text();
    services_.stats.observe_request(ex.code, r.method, took);
    services_.access_log.write(r);
    // The target's host as parsed for this request; the logged URL only when there is none.
    const std::string host = target_.host.empty() ? host_of_target(url_) : host_key(target_.host);
    services_.shared.top_hosts.record(host, ex.code, ex.bytes);
  }

  beast::tcp_stream stream_;
  SocketDeadline deadline_;  // for the waits every request has; other waits use stream_'s timer
  beast::flat_buffer buffer_;
  HandlerMemory read_memory_;  // the turn before each request and the reads of it
  // Lends the memory of each request's fields (run()'s parser, gone before the session).
  FieldsArena fields_arena_;
  Services& services_;
  OriginPool& origins_;
  std::string client_address_;
  AccessDecision client_access_{false, "no client address"};
  AccessDecision admin_access_{false, "no client address"};
  bool check_destination_ = true;
  RequestTarget target_;  // of the current request
  // The URL logged for the current request: its target's, the request line's, or a literal
  // for a request that could not be parsed. A view: it is logged before either goes.
  std::string_view url_;
  std::string user_;  // authenticated user of the current request, for the access log
};

}  // namespace

asio::awaitable<void> run_client_session(asio::ip::tcp::socket socket, Services& services,
                                         OriginPool& origins, SocketDeadlines& deadlines,
                                         [[maybe_unused]] ConnectionLimiter::Ticket ticket) {
  services.stats.connection_opened();
  {
    // The config in force now serves this connection to its end, whatever reloads happen.
    Services current = services.current();
    ClientSession session(std::move(socket), current, origins, deadlines);
    co_await session.run();
  }
  services.stats.connection_closed();
}

asio::awaitable<void> refuse_client_connection(asio::ip::tcp::socket socket, Services& services,
                                               ConnectionLimiter::Refusal refusal) {
  std::shared_ptr<const Config> snapshot = services.shared.live_config.get();
  const Config& config = *snapshot;
  std::string reason =
      refusal == ConnectionLimiter::Refusal::per_client
          ? fmt::format("too many connections from your address (max_connections_per_client {})",
                        config.max_connections_per_client)
          : fmt::format("the proxy is at its connection limit (max_connections {})",
                        config.max_connections);
  std::string body = fmt::format("cacheproxy: 503 Service Unavailable\n{}\n", reason);
  std::string message = fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
      body.size(), body);
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(config.client_write_timeout);
  co_await asio::async_write(stream, asio::buffer(message), use_tuple);
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  services.stats.count_error();
  log_line_limited("connection_limit", fmt::format("refused a connection: {}", reason));
}

}  // namespace cacheproxy
