// SPDX-License-Identifier: MIT
// Python's SyncManager synchronisation types, across processes and safe when a
// process dies holding one:
//   Lock, RLock               the next acquirer after a dead holder gets the lock and
//                             is told (AcquireResult::previous_owner_died)
//   Semaphore,                counters, as in Python: a permit taken is gone until
//   BoundedSemaphore          someone releases one; with PermitRecovery::return_dead_holders
//                             each permit is owned and a dead holder's come back
//   Event
//   Barrier                   a party that dies while waiting breaks the barrier for
//                             the others (broken_barrier) instead of hanging them
// Get them from a Client: client.lock("jobs/lock"), client.barrier("start", 4), ...
// Blocking sleeps on the variable's futex (no polling) and checks holders for death
// between wake-ups, every 100 ms at most. Over the socket transport the same
// methods use the acquire / release / event_set / barrier_* ops and `wait`.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string_view>

#include "mpstate/core/layout.hpp"
#include "mpstate/detail/binding.hpp"
#include "mpstate/error.hpp"
#include "mpstate/fence.hpp"

namespace mpstate {

// No deadline.
inline constexpr std::chrono::milliseconds forever{-1};

struct AcquireResult {
  bool acquired = false;
  bool previous_owner_died = false;  // repair what the lock guarded before trusting it
  std::uint64_t fence = 0;           // the holding's epoch (mpstate/fence.hpp); 0 if none
  explicit operator bool() const { return acquired; }
};

namespace detail {
// What a sync proxy holds: the epoch of its holding and the client's lease session
// it was acquired in (0 on the mapped segment, where the process owns it). A copy
// of a proxy holds nothing.
struct holding_cell {
  holding_cell() = default;
  holding_cell(const holding_cell&) {}
  holding_cell& operator=(const holding_cell&) = delete;
  std::atomic<std::uint64_t> epoch{0};
  std::atomic<std::uint64_t> session{0};
};

// What every sync proxy shares: the binding and the blocking loop.
class sync_handle {
 public:
  sync_handle(std::shared_ptr<client_core> core, std::string_view name, core::value_type type);
  const std::string& name() const { return binding_.name(); }
  // The state as the dump shows it (docs/protocol.md, synchronisation types).
  nlohmann::json state() const;
  // The holding this proxy acquired and has not released, as a Fence for writes
  // made while it lasts; an empty Fence when it holds nothing (or a plain
  // semaphore's permit, which nobody owns).
  Fence fence() const;

 protected:
  // Calls try_once until it returns true or the timeout passes; false at the timeout.
  bool block(const std::function<bool()>& try_once, std::chrono::milliseconds timeout) const;
  // The same, for an attempt that may learn the version it failed at (`told`: a
  // remote acquire's answer); then, with may_tell, no version is read before it:
  // over the wire a round trip saved on every blocking acquire.
  bool block_told(const std::function<bool(std::optional<std::uint64_t>& told)>& try_once,
                  std::chrono::milliseconds timeout, bool may_tell = true) const;
  // One try; on success the proxy notes the holding (its epoch) for release_once.
  // `told`, when given: the version a failed remote attempt was made at.
  AcquireResult try_acquire_once(std::optional<std::uint64_t>* told = nullptr) const;
  // Made as the proxy's holding when it has one: refused with ownership_lost once
  // that holding ended (released by another, taken over after a lapsed lease or an
  // eviction, or acquired over a TCP connection that has broken since). Without
  // one it is a plain release (anyone may release a held Lock, as in Python).
  // `keeps_nothing`: a release that always ends the holding (a Lock's, not an
  // RLock's or a semaphore's), so the proxy lets go of it first, by one store.
  void release_once(bool keeps_nothing = false) const;
  bool evict_dead_holders() const;
  // Throws ownership_lost when the holding was acquired over a connection that has
  // been replaced since (what a TCP client held is the lease of its connection).
  void check_session(std::uint64_t session) const;

  binding binding_;
  mutable holding_cell holding_;
};
}  // namespace detail

class Lock : public detail::sync_handle {
 public:
  Lock(std::shared_ptr<detail::client_core> core, std::string_view name);
  // Blocks until acquired, or `timeout` (then acquired is false).
  AcquireResult acquire(std::chrono::milliseconds timeout = forever);
  // Any process may release a held lock (as in Python); invalid_argument if not held.
  void release();
  // BasicLockable, for std::lock_guard / std::unique_lock.
  void lock() { acquire(); }
  bool try_lock() { return try_acquire_once().acquired; }
  using sync_handle::fence;  // this proxy's current holding (mpstate/fence.hpp)
  void unlock() { release(); }
  bool locked() const;

 protected:
  Lock(std::shared_ptr<detail::client_core> core, std::string_view name, core::value_type type);
};

// Reentrant: the owning thread may acquire again; only it may release.
class RLock : public Lock {
 public:
  RLock(std::shared_ptr<detail::client_core> core, std::string_view name);
};

// Holds a Lock or RLock for its scope and says whether a dead holder had to be evicted.
template <class L>
class LockGuard {
 public:
  explicit LockGuard(L& lock) : lock_(lock), result_(lock.acquire()) {}
  // A destructor must not throw: a release refused there (ownership_lost: the
  // holding ended while the guard lived, say its TCP connection or Redis lease
  // lapsed) is dropped. Call release() to be told.
  ~LockGuard() {
    if (released_) return;
    try {
      lock_.release();
    } catch (const error&) {
    }
  }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;
  bool previous_owner_died() const { return result_.previous_owner_died; }
  // The holding's fence, for writes made under this guard (mpstate/fence.hpp).
  Fence fence() const { return lock_.fence(); }
  // Releases now, and throws what the release meets (ownership_lost).
  void release() {
    released_ = true;
    lock_.release();
  }

 private:
  L& lock_;
  AcquireResult result_;
  bool released_ = false;
};

// Whether a semaphore's permits belong to the process that took them (chosen when
// it is created). Python's are counters (none): a producer releases, a consumer
// acquires and may exit with it. return_dead_holders suits a pool of slots: the
// permits of a process that ends holding them (killed, or exited without release)
// come back; at most 64 holding processes are tracked by pid, the rest counted.
enum class PermitRecovery { none, return_dead_holders };

class Semaphore : public detail::sync_handle {
 public:
  Semaphore(std::shared_ptr<detail::client_core> core, std::string_view name);
  // Takes a permit; false at the timeout.
  bool acquire(std::chrono::milliseconds timeout = forever);
  // Gives a permit back (a BoundedSemaphore refuses to go past its bound: invalid_argument).
  // With owned permits (return_dead_holders), a permit this proxy took is given back
  // as its holding: ownership_lost when the holding ended (the process was taken for
  // dead: a lapsed lease).
  void release();
  std::int64_t value() const;
  // Owned permits: the holding this proxy's permits belong to, for fenced writes.
  using sync_handle::fence;

 protected:
  Semaphore(std::shared_ptr<detail::client_core> core, std::string_view name, core::value_type type);
};

class BoundedSemaphore : public Semaphore {
 public:
  BoundedSemaphore(std::shared_ptr<detail::client_core> core, std::string_view name);
};

class Event : public detail::sync_handle {
 public:
  Event(std::shared_ptr<detail::client_core> core, std::string_view name);
  void set();
  void clear();
  bool is_set() const;
  // True once set during the wait (even when cleared again before this thread woke,
  // as Python promises); false at the timeout.
  bool wait(std::chrono::milliseconds timeout = forever) const;
};

class Barrier : public detail::sync_handle {
 public:
  Barrier(std::shared_ptr<detail::client_core> core, std::string_view name);
  // Waits until all parties have arrived; returns this party's arrival index
  // (0 .. parties-1). Throws error(broken_barrier) when the barrier is or becomes
  // broken: aborted, a waiting party died, or this wait timed out (which breaks it
  // for everyone, as in Python).
  std::int64_t wait(std::chrono::milliseconds timeout = forever);
  // The same, and the last party to arrive runs `action` before anyone passes
  // (Python's Barrier(action=)); give every party the same action. When it throws,
  // the barrier breaks (the others get broken_barrier) and this party gets its
  // exception; a party that dies in it breaks the barrier too.
  std::int64_t wait(std::chrono::milliseconds timeout, const std::function<void()>& action);
  void abort();
  // As Python's: parties waiting now leave with broken_barrier, and it is usable again
  // (arrivals meanwhile wait until they have left); a broken one too.
  void reset();
  std::int64_t parties() const;
  std::int64_t n_waiting() const;
  bool broken() const;

 private:
  void trip(const core::barrier_ticket& ticket);
};

// Python's Condition across processes, over its own reentrant lock (acquire,
// release, LockGuard and std::lock_guard as for a Lock). A waiter that dies is
// dropped from the waiters, so a notify never goes to a dead process; a lock
// holder that dies is evicted as for a Lock. At most 63 waiting threads at a time.
class Condition : public Lock {
 public:
  // Whether the last wait() of this proxy took the lock back from a holder that had
  // died holding it (what the lock guards may need repair, as after a LockGuard).
  bool previous_owner_died() const { return reacquired_from_dead_; }
  Condition(std::shared_ptr<detail::client_core> core, std::string_view name);
  // Releases the lock (this thread must hold it), sleeps until notified or the
  // timeout, takes the lock back (at its depth) and says whether it was notified.
  bool wait(std::chrono::milliseconds timeout = forever);
  // Waits until predicate() is true (checked under the lock); returns its last value.
  bool wait_for(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = forever);
  // Wakes up to n waiters, oldest first (this thread must hold the lock); how many.
  std::uint64_t notify(std::uint64_t n = 1);
  std::uint64_t notify_all() { return notify(core::max_sync_holders); }

 private:
  bool reacquired_from_dead_ = false;
};

}  // namespace mpstate
