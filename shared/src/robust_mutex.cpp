// SPDX-License-Identifier: MIT
#include "mpstate/core/robust_mutex.hpp"

#include <cerrno>
#include <ctime>

#include "mpstate/core/process_identity.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

void robust_mutex::init() {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  int rc = pthread_mutex_init(&native_, &attr);
  pthread_mutexattr_destroy(&attr);
  if (rc != 0) throw_system_error("pthread_mutex_init", rc);
}

bool robust_mutex::after_lock(int rc) {
  if (rc == 0) return false;
  if (rc == EOWNERDEAD) {
    // Our records commit by one atomic store, so what the dead owner left is
    // either the old or the new value: nothing to undo before marking consistent.
    if (pthread_mutex_consistent(&native_) != 0) {
      throw error(errc::lock_unrecoverable, "pthread_mutex_consistent failed");
    }
    return true;
  }
  if (rc == ETIMEDOUT) throw error(errc::timeout, "lock not acquired before the deadline");
  if (rc == ENOTRECOVERABLE) {
    throw error(errc::lock_unrecoverable, "mutex is not recoverable");
  }
  throw_system_error("pthread_mutex_lock", rc);
}

bool robust_mutex::lock_until(std::chrono::system_clock::time_point deadline) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  if (ns < 0) ns = 0;
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  return after_lock(pthread_mutex_timedlock(&native_, &ts));
}

lock_busy::lock_busy(const robust_mutex& m, std::string_view what)
    : error(errc::busy, std::string(what) + " is locked by thread " + std::to_string(m.holder_tid()) +
                            (is_stopped(m.holder_tid()) ? " (stopped)" : "") + " of another process; try again") {}

bool robust_mutex::try_lock(bool* owner_died) {
  int rc = pthread_mutex_trylock(&native_);
  if (rc == EBUSY) return false;
  bool died = after_lock(rc);
  if (owner_died) *owner_died = died;
  return true;
}

}  // namespace mpstate::core
