// SPDX-License-Identifier: MIT
// The manager's event loop: Asio's, optionally busy-polling (--busy-poll).
//
// A request over a socket costs two process wake-ups: the manager's, then the
// client's. On a virtual machine each is tens of microseconds, most of a round
// trip. Polling the sockets for a short spell after the last piece of work, instead
// of sleeping at once, removes the manager's: a client that sends its next request
// within the spell is served without waking anyone. The price is CPU: the loop spins
// for up to the spell after each piece of work, its own 10 ms clock tick included
// (so an idle manager with a 50 µs spell spends 0.5% of a core), and one serving a
// request every 100 µs keeps half a core busy. The spell is at most 5 ms (main.cpp),
// below the tick, so the loop always sleeps in between.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace mpstate::manager {

// Runs `io` until it is stopped. With `busy_poll` > 0, the loop keeps polling for
// that long after each handler it runs, then sleeps until the next event.
void run_event_loop(boost::asio::io_context& io, std::chrono::microseconds busy_poll);

}  // namespace mpstate::manager
