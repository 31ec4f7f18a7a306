// SPDX-License-Identifier: MIT
// Fence: one holding of a lock, named by its epoch, for writes that must happen
// only while that holding lasts (Kleppmann's fencing token, checked where the state
// lives rather than by the client).
//
//   mpstate::LockGuard guard(lock);
//   counter.set(counter.get() + 1, guard.fence());   // refused once the lock moved on
//
// Every ownership (a Lock's, an RLock's, a Condition's lock, the permits a process
// holds of a Semaphore made with PermitRecovery::return_dead_holders, a loop's
// owner) has an epoch that only grows, new at each fresh acquisition. A write that
// carries a Fence (Value<T>::set, add, compare_exchange, update) is one atomic
// check-and-write: on the segment under the lock's record mutex, on the manager for
// a socket or TCP client, in one script on Redis. When the holding has ended (the
// lock was released, its holder evicted as dead, a TCP connection or Redis lease
// lapsed) the write is refused with error(ownership_lost) and changes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace mpstate {

namespace detail {
class binding;
class sync_handle;
}  // namespace detail

class Fence {
 public:
  // No fence (epoch 0): a write given it is refused (invalid_argument).
  Fence() = default;
  // A fence named by its parts, e.g. sent by another process: the lock `lock`
  // held with `epoch`.
  Fence(std::string lock, std::uint64_t epoch) : name_(std::move(lock)), epoch_(epoch) {}

  const std::string& lock() const { return name_; }
  std::uint64_t epoch() const { return epoch_; }
  explicit operator bool() const { return epoch_ != 0; }

  // Internal: the lock's proxy binding when the fence came from one (no name lookup
  // on the mapped segment), and the client's lease session it was acquired in.
  const detail::binding* lock_binding() const { return bound_.get(); }
  std::uint64_t session() const { return session_; }

 private:
  friend class detail::sync_handle;
  Fence(std::shared_ptr<const detail::binding> bound, std::string name, std::uint64_t epoch, std::uint64_t session)
      : bound_(std::move(bound)), name_(std::move(name)), epoch_(epoch), session_(session) {}

  std::shared_ptr<const detail::binding> bound_;
  std::string name_;
  std::uint64_t epoch_ = 0;
  std::uint64_t session_ = 0;  // 0: a holding of the process (mapped, Unix socket, Redis)
};

}  // namespace mpstate
