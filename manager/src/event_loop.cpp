// SPDX-License-Identifier: MIT
#include "event_loop.hpp"

namespace mpstate::manager {

void run_event_loop(boost::asio::io_context& io, std::chrono::microseconds busy_poll) {
  if (busy_poll.count() <= 0) {
    io.run();
    return;
  }
  using clock = std::chrono::steady_clock;
  auto spin_until = clock::now() + busy_poll;
  while (!io.stopped()) {
    // poll(): every ready handler, and a look at the sockets without sleeping.
    if (io.poll() > 0) {
      spin_until = clock::now() + busy_poll;
    } else if (clock::now() >= spin_until) {
      if (io.run_one() == 0) break;  // stopped, or nothing left to wait for
      spin_until = clock::now() + busy_poll;
    }
  }
}

}  // namespace mpstate::manager
