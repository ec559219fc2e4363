// One client connection: the keep-alive loop, header limits and deadlines, and dispatch of
// each request by kind. Holds no cache logic.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "proxy/origin_pool.hpp"
#include "proxy/services.hpp"

namespace cacheproxy {

// Serves requests on `socket` until the client closes, a deadline passes, or an exchange
// cannot leave the connection in a known state. The coroutine owns the socket.
boost::asio::awaitable<void> run_client_session(boost::asio::ip::tcp::socket socket,
                                                Services& services, OriginPool& origins);

}  // namespace cacheproxy
