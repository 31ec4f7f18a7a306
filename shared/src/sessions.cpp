// SPDX-License-Identifier: MIT
#include "mpstate/core/sessions.hpp"

namespace mpstate::core {

bool holder_alive(const segment_header& h, const process_identity& who) {
  if (!is_session(who)) return is_alive(who);
  const auto slot = static_cast<std::uint64_t>(-static_cast<std::int64_t>(who.pid)) - 1;
  if (slot >= h.session_capacity) return false;
  const std::uint64_t word = session_words(h)[slot].load(std::memory_order_acquire);
  return word == who.start_time && (word & 1) != 0;
}

}  // namespace mpstate::core
