// SPDX-License-Identifier: MIT
// Synchronisation variables, Python's SyncManager types across processes:
//   lock, rlock, semaphore, bounded_semaphore, event, barrier, condition.
// Each but a lock keeps a sync_state (layout.hpp) in its record's buffer slots,
// changed under the record's robust mutex and committed whole, so a process killed
// mid-operation leaves the state before or after it; a lock is one word, changed by
// compare-exchange (shared/src/plain_lock.hpp). Holders are recorded as pid + start time:
// when one dies, evict_dead_holders() frees its lock (the next acquirer is told),
// returns its semaphore permits, breaks the barrier it waited at, or drops it from
// a condition's waiters.
//
// Nothing here blocks: blocking is the caller's loop of try + wait_for_change
// (a futex, no polling) with a dead-holder check between wake-ups.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string_view>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

// Who acts: a process and, for an rlock, its thread (gettid()).
struct sync_actor {
  process_identity process;
  std::int32_t tid = 0;
};

sync_state read_sync(variable_record& r);
// The committed state's `value` (an event: 1 when set), read without the lock: the
// word is copied from the active slot by read_committed_unlocked, so no lock and no
// 2 KB copy (under the lock only if writers kept it moving).
std::int64_t sync_value_unlocked(variable_record& r);

// The starting state, at creation: semaphores take their permits (an integer >= 0;
// default 1; a bounded one is bounded by it), a barrier its parties (>= 1,
// required), an event whether it starts set (default false). invalid_argument else.
void init_sync(variable_record& r, const nlohmann::json& initial);
// The same starting state, checked, for a variable of `type` named `name` that is
// not a record (the client's Redis backend stores it elsewhere).
sync_state initial_sync_state(value_type type, std::string_view name, const nlohmann::json& initial);

struct acquire_outcome {
  bool acquired = false;
  bool previous_owner_died = false;  // lock/rlock: the holder before died holding it
  // The holding's epoch (its fence): lock, rlock and condition, new at each fresh
  // acquisition (an rlock's owner acquiring again keeps it); an owned semaphore's
  // (return_dead_permits) per holding process; 0 for a plain semaphore (a counter:
  // nobody owns its permits).
  std::uint64_t fence = 0;
};
// lock, rlock, semaphore, bounded_semaphore; never blocks. An rlock's owning thread
// acquires again (depth + 1).
acquire_outcome try_acquire(variable_record& r, const sync_actor& who);
// lock: anyone may release a held lock; rlock: only its owning thread; semaphores:
// anyone, a bounded one not past its bound. invalid_argument otherwise.
// With `epoch` (the releaser's own holding, from try_acquire) the release is made as
// that owner: refused with ownership_lost unless that holding is still the current
// one (a lock freed or taken by another since, say after a lease lapsed). Returns
// what the holding keeps: an rlock's or condition's depth, an owned semaphore
// holding's permits; 0 when it ended.
std::uint64_t release(variable_record& r, const sync_actor& who, const std::optional<std::uint64_t>& epoch = {});

// Throws ownership_lost unless `lock` (a lock, rlock, condition, or an owned
// semaphore) is held with `epoch` now. The caller holds lock's record mutex.
void check_epoch_locked(const variable_record& lock, std::uint64_t epoch);

// A fenced write: runs write() while `lock` is held with `epoch`. The check and the
// write are one step (lock's record mutex is held across both), so no eviction,
// release by another, or new acquisition comes between them (a Lock's holder's own
// release takes no mutex: plain_lock.hpp): a write whose fence is stale is
// refused (ownership_lost) and changes nothing. Locks lock's mutex, then (inside
// write) the value's for a buffer (a scalar's write takes no lock); invalid_argument
// when `value` is `lock` itself.
template <class Write>
decltype(auto) fenced(variable_record& lock, std::uint64_t epoch, Write&& write) {
  locked_record held(lock);
  check_epoch_locked(lock, epoch);
  return write();
}
template <class Write>
decltype(auto) fenced(variable_record& lock, std::uint64_t epoch, const variable_record& value, Write&& write) {
  if (&lock == &value) throw error(errc::invalid_argument, "a variable cannot be fenced by itself");
  return fenced(lock, epoch, std::forward<Write>(write));
}

void set_event(variable_record& r, bool set);

// A barrier's `broken`: 0 usable, 1 broken, and two passing states:
// resetting while a reset lets its waiting parties out (each leaves with
// broken_barrier; the last one out makes it usable), as Python's reset does;
// tripping while the last party runs the barrier's action (Python's
// Barrier(action=)) before it lets everyone through.
constexpr std::uint32_t barrier_resetting = 2;
constexpr std::uint32_t barrier_tripping = 3;

// Arrival at a barrier: the arrival index (0 .. parties-1) and the generation to
// wait out. The last party trips it, or with `hold_trip` holds the trip: `trip` is
// true, and it runs the action, then trip_barrier (or abort_barrier when the action
// failed). Throws broken_barrier when broken; index -1 while a reset lets parties
// out or a trip is held (not arrived: arrive again after a change).
struct barrier_ticket {
  std::uint64_t generation = 0;
  std::int64_t index = 0;
  bool trip = false;
};
barrier_ticket arrive_at_barrier(variable_record& r, const sync_actor& who, bool hold_trip = false);
// True once the ticket's generation has tripped. When the barrier broke instead,
// the caller leaves it (its place is given up) and gets broken_barrier.
bool barrier_passed(variable_record& r, const barrier_ticket& ticket, const sync_actor& who);
// The held trip (ticket.trip): everyone passes. broken_barrier when the barrier
// broke or was reset meanwhile (the caller has left it then).
void trip_barrier(variable_record& r, const barrier_ticket& ticket, const sync_actor& who);
// Breaks the barrier: every waiting party gets broken_barrier.
void abort_barrier(variable_record& r);
// Python's reset: waiting parties (if any) leave with broken_barrier, and it is usable
// again once they have; with none waiting, at once. A broken barrier too.
void reset_barrier(variable_record& r);

// Conditions (Python's Condition over its own reentrant lock): holders[0] is the
// lock's owner (pid 0 when free), holders[1..] the waiting threads in arrival order
// (count 1 once notified). try_acquire / release work on the lock.
// Begins a wait: releases the lock (invalid_argument unless this thread holds it)
// and queues `who` as a waiter; returns the lock depth to restore afterwards.
std::uint64_t begin_condition_wait(variable_record& r, const sync_actor& who);
// Whether `who` has been notified; if so it leaves the waiters. A waiter that is no
// longer listed counts as notified (a wake-up it may not miss).
bool condition_notified(variable_record& r, const sync_actor& who);
// Leaves the waiters after a timeout; true when a notify came meanwhile.
bool cancel_condition_wait(variable_record& r, const sync_actor& who);
// Marks up to n waiters notified, oldest first (invalid_argument unless this thread
// holds the lock). Returns how many.
std::uint64_t notify_condition(variable_record& r, const sync_actor& who, std::uint64_t n);

// Evicts holders whose process is gone (see the top). True when anything changed.
bool evict_dead_holders(variable_record& r);

// The state as the `get` op and the dump show it (see docs/protocol.md).
nlohmann::json sync_to_json(variable_record& r);
// Puts back a state saved as sync_to_json() by a manager restoring a snapshot: no
// holder survives a restart, so locks come back free and permits returned.
void restore_sync(variable_record& r, const nlohmann::json& saved);

}  // namespace mpstate::core
