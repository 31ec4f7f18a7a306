// SPDX-License-Identifier: MIT
#include "tcp_listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include "mpstate/core/auth.hpp"
#include "mpstate/error.hpp"

namespace mpstate::manager {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::unique_ptr<tcp::acceptor> open_tcp_listener(asio::io_context& io, const std::string& address) {
  const core::tcp_address where = core::parse_tcp_address(address);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto found = resolver.resolve(where.host, std::to_string(where.port), tcp::resolver::passive, ec);
  if (ec || found.empty()) {
    throw error(errc::invalid_argument, "cannot resolve --listen " + address + ": " + ec.message());
  }
  const tcp::endpoint endpoint = found.begin()->endpoint();
  auto acceptor = std::make_unique<tcp::acceptor>(io);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw error(errc::system_error, "cannot listen on " + address + ": " + ec.message());
  return acceptor;
}

std::string to_string(const tcp::endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(endpoint.port());
}

std::string peer_address(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return "?";
  tcp::endpoint endpoint;
  if (length > endpoint.capacity()) return "?";
  std::memcpy(endpoint.data(), &storage, length);
  endpoint.resize(length);
  return to_string(endpoint);
}

void tune_tcp_connection(int fd, std::chrono::seconds lease) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const int seconds = static_cast<int>(std::max<std::chrono::seconds::rep>(lease.count(), 2));
  const int idle = std::max(1, seconds / 2), interval = 1, probes = std::max(1, seconds - idle);
  const unsigned user_timeout_ms = static_cast<unsigned>(seconds) * 1000;
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

}  // namespace mpstate::manager
