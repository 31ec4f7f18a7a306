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

// tcpi_last_ack_recv: ms since the peer's kernel last acknowledged anything. Data in
// flight (tcpi_unacked) is sent again on a backing-off timer (up to two minutes apart)
// and the peer's kernel answers every copy, even into a full window, so its silence
// counts from the last copy sent (tcpi_last_data_sent, which retransmissions renew),
// not from the last answer: a peer that stopped reading and whose kernel dropped what
// no longer fit is slow, not gone. Keepalive and zero-window probes (tcpi_probes)
// carry no data; an answer resets the count, so a count above 0 is a probe unanswered.
bool tcp_peer_unanswering(int fd, std::chrono::milliseconds lease) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return false;
  const std::chrono::milliseconds since_answer(info.tcpi_last_ack_recv), since_sent(info.tcpi_last_data_sent);
  if (since_answer <= lease) return false;
  // A live peer's kernel answers within a round trip: allow three smoothed ones.
  const auto grace = std::clamp<std::chrono::milliseconds>(std::chrono::milliseconds(3 * info.tcpi_rtt / 1000),
                                                           min_answer_grace, max_answer_grace);
  if (info.tcpi_unacked > 0) return since_answer > since_sent && since_sent > grace;
  return info.tcpi_probes > 0;
}

}  // namespace mpstate::core
