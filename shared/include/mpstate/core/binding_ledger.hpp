// SPDX-License-Identifier: MIT
// Which processes hold a record bound, so the manager can give back the bindings of
// a process that died (SIGKILL, a crash, a fork child that _exit()s) and free the
// deleted and moved records they kept.
//
// A record's bind_count is the authority: the manager frees a retired record at 0.
// Beside it each record has record_binder_slots ledger entries, one per binding
// process: (that process's pid and start time, how many of its bindings). The
// orders make every crash a leak, never an early free:
//   bind:    bind_count + 1, then the process's entry + 1
//   unbind:  the entry - 1, then bind_count - 1
//   reclaim: (the manager, for a process that is gone) the entry's count taken to 0,
//            bind_count - that count, then the entry freed
// so the entries never sum to more than the bindings they stand for. A process that
// finds every entry taken binds unledgered: its bindings are counted, and leak
// (stay counted) only when it dies holding them.
//
// Ledger changes of one process are serialised by a process-wide mutex (held
// across fork(), so a child never inherits it locked).
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "mpstate/core/layout.hpp"

namespace mpstate::core {

// Raises `r`'s bind_count and notes the binding in this process's entry.
void bind_record(variable_record& r);
// Gives back one binding of this process (the entry first, then bind_count);
// returns the bindings left, of every process.
std::uint32_t unbind_record(variable_record& r) noexcept;
// Around fork(): the parent counts the child's binding before the child exists
// (raise_binding_for_child), the child then notes it in its own entry
// (note_binding_in_child), so a parent that drops its proxy at once frees nothing.
void raise_binding_for_child(variable_record& r) noexcept;
void note_binding_in_child(variable_record& r) noexcept;

// The ledger key of a process: (start time << 22) | pid; 0 is a free entry.
std::uint64_t binder_key(std::int32_t pid, std::uint64_t start_time) noexcept;

// The manager's side: gives back the bindings of processes that are gone. One sweep
// checks each process once (a /proc read), however many records it bound.
class dead_binder_sweep {
 public:
  // Reclaims the entries of dead processes in `r`; returns the bindings given back.
  std::uint64_t reclaim(variable_record& r);
  // Whether the process of ledger key `key` still runs (cached per sweep).
  bool alive(std::uint64_t key);
  // The keys this sweep found alive.
  std::vector<std::uint64_t> live_keys() const;

 private:
  std::unordered_map<std::uint64_t, bool> alive_;
};

}  // namespace mpstate::core
