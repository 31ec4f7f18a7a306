// SPDX-License-Identifier: MIT
// The TCP side of the manager's sockets (--listen HOST:PORT): opening a listener,
// and the options every accepted TCP connection gets.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace mpstate::manager {

// TCP peers still in their TLS or key handshake, at most: more are dropped at
// accept, so peers without the key cannot take the slots of those with it.
constexpr std::size_t max_pending_handshakes = 64;

// Binds and listens on "HOST:PORT" (a name is resolved; port 0 takes a free one).
// Throws error(invalid_argument) for a bad address, error(system_error) when it
// cannot be bound.
std::unique_ptr<boost::asio::ip::tcp::acceptor> open_tcp_listener(boost::asio::io_context& io,
                                                                  const std::string& address);
// "HOST:PORT" of an endpoint ("[v6]:PORT").
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);
// The peer's "HOST:PORT" of a connected socket, or "?".
std::string peer_address(int fd);

// No Nagle delay (a request is one small write), and the lease's heartbeat: the
// kernel probes a silent peer after lease/2 and gives up about lease later, also when
// written answers stay unacknowledged that long (TCP_USER_TIMEOUT). The probes are
// answered by the peer's kernel, so a stopped (Ctrl-Z) client keeps its lease, as
// a stopped local process keeps its locks; a machine that is gone does not.
void tune_tcp_connection(int fd, std::chrono::seconds lease);

}  // namespace mpstate::manager
