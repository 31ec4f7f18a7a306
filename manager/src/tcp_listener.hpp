// SPDX-License-Identifier: MIT
// The TCP side of the manager's sockets (--listen HOST:PORT): opening a listener,
// and the options every accepted TCP connection gets.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace mpstate::manager {

// TCP peers still in their TLS or key handshake, at most. A new peer past it is not
// refused: the oldest in its handshake is let go (server.cpp). A peer that opens
// connections at R a second can so push out only handshakes older than 256 / R (25 ms
// at 10,000 a second), and a client with the key takes about one round trip.
constexpr std::size_t max_pending_handshakes = 256;

// Binds and listens on "HOST:PORT" (a name is resolved; port 0 takes a free one).
// Throws error(invalid_argument) for a bad address, error(system_error) when it
// cannot be bound.
std::unique_ptr<boost::asio::ip::tcp::acceptor> open_tcp_listener(boost::asio::io_context& io,
                                                                  const std::string& address,
                                                                  std::string_view flag = "--listen");
// "HOST:PORT" of an endpoint ("[v6]:PORT").
std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);
// The peer's "HOST:PORT" of a connected socket, or "?".
std::string peer_address(int fd);

// No Nagle delay (a request is one small write), and the lease's heartbeat: the
// kernel probes an idle peer every second after lease/3 (core::keep_tcp_alive). No
// TCP_USER_TIMEOUT: it also ends a connection whose peer is alive but does not read
// (a zero window: a client stopped with answers unread), which must keep its lease,
// as a stopped local process keeps its locks.
void tune_tcp_connection(int fd, std::chrono::seconds lease);
// How often a leased connection looks whether its peer's machine still answers
// (core::tcp_silence_watch).
constexpr std::chrono::milliseconds silence_check{250};

}  // namespace mpstate::manager
