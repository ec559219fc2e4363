// One client connection: the keep-alive loop, header limits and deadlines, and dispatch of
// each request by kind. Holds no cache logic.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/origin_pool.hpp"
#include "proxy/services.hpp"
#include "proxy/socket_deadlines.hpp"

namespace cacheproxy {

// Serves requests on `socket` until the client closes, a deadline passes, or an exchange
// cannot leave the connection in a known state. The coroutine owns the socket.
// `deadlines` is the thread's, for the waits of every request; `ticket` is the connection's
// place under the connection caps, released when it ends.
boost::asio::awaitable<void> run_client_session(boost::asio::ip::tcp::socket socket,
                                                Services& services, OriginPool& origins,
                                                SocketDeadlines& deadlines,
                                                ConnectionLimiter::Ticket ticket);

// Answers a connection over the caps with 503 and closes it, without reading a request.
boost::asio::awaitable<void> refuse_client_connection(boost::asio::ip::tcp::socket socket,
                                                      Services& services,
                                                      ConnectionLimiter::Refusal refusal);

}  // namespace cacheproxy
