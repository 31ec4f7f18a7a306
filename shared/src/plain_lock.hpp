// SPDX-License-Identifier: MIT
// Internal to shared/: a `lock` (Python's Lock: anyone may release it) kept whole
// in its record's 16-byte (version, scalar) word, so acquire and release are each
// one compare-exchange, without the record's mutex, and a process killed anywhere
// has taken the lock or not, and holds nothing else anyone must recover.
//
//  - scalar: 0 free; plain_lock::freed_dead free after its holder was found dead
//    (the next acquirer is told); otherwise the holder, packed (holder_token).
//  - version: +1 at every change. The version an acquisition commits is that
//    holding's epoch (its fence), floored by the segment's creation time as
//    next_epoch is; while held nothing else changes the word, so "held with epoch
//    E" is one comparison, and a release or an eviction moves the version on.
//  - acquisitions are counted by the holder alone (one plain store while it holds
//    the lock: a count, not a promise; a holder killed between its compare-exchange
//    and that store goes uncounted, as may one whose lock another process released
//    at once), holders found dead by the evicter under the record's mutex.
//
// The mutex still serialises an eviction, and a release made without an epoch (by
// another process: anyone may release a Lock), with a fenced write (sync_ops.hpp,
// fenced): neither falls between the write's check and its store. The holder's own
// release takes no mutex: its fenced write racing its own release, from another of
// its threads, is the holder's race, as a write after an unlock would be.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/sync_ops.hpp"

namespace mpstate::core::plain_lock {

constexpr std::uint64_t freed_dead = std::uint64_t{1} << 63;  // no holder's token: a session's names a slot
inline bool is_held(std::uint64_t bits) { return bits != 0 && bits != freed_dead; }

acquire_outcome try_acquire(variable_record& r, const sync_actor& who);
// As core::release for a lock: anyone may release it; with a non-zero epoch only as
// that holding (ownership_lost when it ended). Always 0 (nothing kept).
std::uint64_t release(variable_record& r, const std::optional<std::uint64_t>& epoch);
// Throws ownership_lost unless the lock is held with `epoch` now.
void check_epoch(const variable_record& r, std::uint64_t epoch);
bool evict_dead_holder(variable_record& r);
nlohmann::json to_json(const variable_record& r);
// A lock from a snapshot: free, its counters kept, its epochs going on above `fence`.
void restore(variable_record& r, const nlohmann::json& saved);

}  // namespace mpstate::core::plain_lock
