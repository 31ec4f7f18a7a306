// SPDX-License-Identifier: MIT
// Whether the other end of a TCP connection is still there, as both sides judge it
// (docs/design.md, "Ownership"). A lease over TCP lasts while the peer's *kernel*
// answers: it acknowledges data, keepalive probes on an idle connection, and
// zero-window probes when its process stopped reading, so a slow, stopped or
// debugged peer keeps its lease (as a stopped local process keeps its locks); a
// machine or network that is gone answers nothing, and its silence ends the lease.
#pragma once

#include <chrono>

namespace mpstate::core {

// Keepalive on `fd`: the first probe after max(1 s, lease / 3) of quiet, then one a
// second, and the kernel gives up after about the lease; no TCP_USER_TIMEOUT (it would
// also end a connection whose peer is alive but not reading).
void keep_tcp_alive(int fd, std::chrono::seconds lease);

// How long the peer's kernel may take to answer what was last sent to it: three
// smoothed round trips, within these bounds.
constexpr std::chrono::milliseconds min_answer_grace{250};
constexpr std::chrono::milliseconds max_answer_grace{1000};

// One look at `fd` (TCP_INFO): true when nothing has been acknowledged for longer than
// `lease` and something waits for the peer's kernel to answer it: a keepalive or
// zero-window probe, or data sent again over the answer grace ago. False for anything
// but TCP.
bool tcp_peer_unanswering(int fd, std::chrono::milliseconds lease);

// The verdict: the peer is taken for gone once it has been unanswering at two looks
// in a row (a probe's answer may be on its way at one look). The kernel spaces
// zero-window probes out, up to two minutes apart, so a machine lost while its
// process had stopped reading is found at the next probe.
class tcp_silence_watch {
 public:
  bool gone(int fd, std::chrono::milliseconds lease) {
    looks_ = tcp_peer_unanswering(fd, lease) ? looks_ + 1 : 0;
    return looks_ >= 2;
  }

 private:
  int looks_ = 0;
};

}  // namespace mpstate::core
