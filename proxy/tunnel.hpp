// CONNECT tunnels (RFC 9110 §9.3.6): after a 200, bytes flow both ways unchanged until both
// sides have closed, with half-close passed on, bounded buffers and an idle timeout.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "proxy/exchange.hpp"
#include "proxy/origin_pool.hpp"
#include "proxy/request_target.hpp"
#include "proxy/services.hpp"

namespace cacheproxy {

// Answers a CONNECT: 403 for a port not in connect_ports, 502/504 when the target cannot be
// reached, otherwise 200 and a tunnel. Bytes the client sent after its request header (often
// a TLS ClientHello) are in client_buffer and go first. The connection never carries another
// request afterwards.
boost::asio::awaitable<Exchange> run_tunnel(Services& services, OriginPool& origins,
                                            boost::beast::tcp_stream& client,
                                            boost::beast::flat_buffer& client_buffer,
                                            const RequestTarget& target, unsigned version,
                                            bool check_destination);

}  // namespace cacheproxy
