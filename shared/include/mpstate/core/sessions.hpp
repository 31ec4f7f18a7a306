// SPDX-License-Identifier: MIT
// Remote sessions: what a TCP connection owns (a lock, a loop, permits, a barrier
// place) is recorded under the connection's session, an identity the segment itself
// can judge, so no process stands for it. A session is one word of the segment's
// session table (segment_header::sessions_offset): a counter, odd while the session
// lives. A holder records it as pid -(slot + 1) and start time the counter's value;
// the manager ends the session (the counter made even) when the connection ends, and
// from then on every holder naming it is dead, as a SIGKILLed process is: the next
// acquirer is told, the loop turns failed. An adopting manager ends every session of
// the one that died (their connections died with it).
#pragma once

#include <atomic>
#include <cstdint>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/process_identity.hpp"

namespace mpstate::core {

// Slots of the table: one per 16 KiB of segment, 64 at least, this many at most
// (32 KiB, from a 64 MiB segment, the default).
constexpr std::uint32_t max_session_capacity = 4096;

inline bool is_session(const process_identity& who) { return who.pid < 0; }

// The table's words.
inline std::atomic<std::uint64_t>* session_words(const segment_header& h) {
  return reinterpret_cast<std::atomic<std::uint64_t>*>(const_cast<char*>(reinterpret_cast<const char*>(&h)) +
                                                       h.sessions_offset);
}

// Whether a holder is still there: a session that has not ended, or a process that
// runs (is_alive: pid and start time).
bool holder_alive(const segment_header& h, const process_identity& who);

}  // namespace mpstate::core
