// SPDX-License-Identifier: MIT
// The loop-state record: an owner process runs a loop, anyone watches and stops it.
// States: idle -> starting -> running -> stopping -> stopped, and failed from any.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/process_identity.hpp"

namespace mpstate::core {

// The committed snapshot (under the record's lock). Throws type_mismatch for a non-loop.
loop_snapshot read_loop(variable_record& r);

// Owner transitions. `starting` takes ownership for `who` (refused with
// invalid_argument while another live process owns an active loop) and resets the
// counters; the others require `who` to be the owner. `running` keeps a stop that
// was requested while starting. `failed` records `reason`.
loop_snapshot mark_loop(variable_record& r, loop_phase to, const process_identity& who,
                        std::string_view reason = {});
// Adds `count` iterations and stamps the heartbeat. Owner only.
loop_snapshot heartbeat_loop(variable_record& r, const process_identity& who,
                             std::uint64_t count = 1);
// Anyone: starting/running -> stopping. Returns the phase after the call.
loop_phase request_loop_stop(variable_record& r);
// When the loop is active and its owner is gone (dead, a zombie, or its pid reused),
// marks it failed ("owner process N died") and returns true.
bool fail_loop_if_owner_dead(variable_record& r);

constexpr bool is_active(loop_phase p) {
  return p == loop_phase::starting || p == loop_phase::running || p == loop_phase::stopping;
}

// Puts back a loop saved as loop_to_json() (a manager restoring a snapshot). A loop
// that was active comes back `failed`: its owner's run did not survive the restart.
void restore_loop(variable_record& r, const nlohmann::json& saved);

// {"state","pid","iterations","started_ns","heartbeat_ns","heartbeat_age_ms","reason"}
nlohmann::json loop_to_json(const loop_snapshot& s);

}  // namespace mpstate::core
