// SPDX-License-Identifier: MIT
// The loop-state record: an owner process runs a loop, anyone watches and stops it.
// States: idle -> starting -> running -> stopping -> stopped, and failed from any.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/process_identity.hpp"

namespace mpstate::core {

// The committed snapshot (under the record's lock). Throws type_mismatch for a non-loop.
loop_snapshot read_loop(variable_record& r);

// Owner transitions. `starting` takes ownership for `who` (refused with
// invalid_argument while another live process owns an active loop), resets the
// counters and begins a new epoch (the snapshot's `epoch`); the others require `who`
// to be the owner. `running` keeps a stop that was requested while starting.
// `failed` records `reason`. With `epoch` (the owner's, from its `starting`) the op
// is made as that ownership: refused with ownership_lost unless the loop is still
// active under that epoch and `who` (a loop failed because its owner was taken for
// dead, say a lapsed lease, or taken over by another `starting`).
loop_snapshot mark_loop(variable_record& r, loop_phase to, const process_identity& who, std::string_view reason = {},
                        std::optional<std::uint64_t> epoch = {});
// Adds `count` iterations and stamps the heartbeat. Owner only; `epoch` as above.
loop_snapshot heartbeat_loop(variable_record& r, const process_identity& who, std::uint64_t count = 1,
                             std::optional<std::uint64_t> epoch = {});
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

// {"state","pid","iterations","started_ns","heartbeat_ns","heartbeat_age_ms","reason","epoch"}
nlohmann::json loop_to_json(const loop_snapshot& s);

}  // namespace mpstate::core
