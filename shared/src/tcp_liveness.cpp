// SPDX-License-Identifier: MIT
#include "mpstate/core/tcp_liveness.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

namespace mpstate::core {

void keep_tcp_alive(int fd, std::chrono::seconds lease) {
  const int on = 1;
  const int seconds = static_cast<int>(std::max<std::chrono::seconds::rep>(lease.count(), 2));
  const int idle = std::max(1, seconds / 3), interval = 1, probes = std::max(1, seconds - idle);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}

// tcpi_unacked: segments in flight; tcpi_probes: keepalive or zero-window probes
// sent and not answered (an answer resets it); tcpi_last_ack_recv: ms since the
// peer last acknowledged anything.
bool tcp_peer_unanswering(int fd, std::chrono::milliseconds lease) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return false;
  const bool awaiting = info.tcpi_unacked > 0 || info.tcpi_probes > 0;
  return awaiting && std::chrono::milliseconds(info.tcpi_last_ack_recv) > lease;
}

}  // namespace mpstate::core
