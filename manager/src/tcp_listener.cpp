// SPDX-License-Identifier: MIT
#include "tcp_listener.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include "mpstate/core/auth.hpp"
#include "mpstate/core/tcp_liveness.hpp"
#include "mpstate/error.hpp"

namespace mpstate::manager {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::unique_ptr<tcp::acceptor> open_tcp_listener(asio::io_context& io, const std::string& address,
                                                 std::string_view flag) {
  const core::tcp_address where = core::parse_tcp_address(address);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto found = resolver.resolve(where.host, std::to_string(where.port), tcp::resolver::passive, ec);
  if (ec || found.empty()) {
    throw error(errc::invalid_argument, "cannot resolve " + std::string(flag) + " " + address + ": " + ec.message());
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
  core::keep_tcp_alive(fd, lease);
}

}  // namespace mpstate::manager
