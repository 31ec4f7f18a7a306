// SPDX-License-Identifier: MIT
// A process-shared robust mutex that lives in shared memory.
//
// Why not boost::interprocess::interprocess_mutex: since Boost 1.78 it is built
// robust, but on EOWNERDEAD it unlocks without pthread_mutex_consistent, so the
// mutex turns ENOTRECOVERABLE and every later lock throws. This wrapper marks the
// mutex consistent after the caller's repair step, so a lock never dies with its
// holder (see DESIGN.md, "No lock dies with its holder").
#pragma once

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <string_view>

#include "mpstate/error.hpp"

namespace mpstate::core {

class robust_mutex {
 public:
  // Initialises in place; call once, in the process that creates the segment.
  void init();

  // Blocks until locked. Returns true when the previous owner died holding it:
  // the caller must repair what the mutex guards before relying on it (the mutex
  // is already marked consistent). Throws error(lock_unrecoverable) otherwise.
  bool lock() {
    int rc = pthread_mutex_lock(&native_);
    return rc == 0 ? false : after_lock(rc);  // the uncontended path stays inline
  }
  // As lock(), with a deadline: throws error(timeout) when it passes.
  bool lock_until(std::chrono::system_clock::time_point deadline);
  // Returns false (and does not lock) when another holder has it.
  bool try_lock(bool* owner_died = nullptr);
  void unlock() noexcept { pthread_mutex_unlock(&native_); }
  // The thread id of the holder (0 when free), as glibc records it: for messages only.
  int holder_tid() const noexcept { return native_.__data.__owner & 0x3fffffff; }

 private:
  bool after_lock(int rc);
  pthread_mutex_t native_;
};

// Set by the manager's event-loop thread: it never waits for a lock in the segment
// (a client stopped in a debugger may hold one for ever). robust_lock and
// locked_record then only try, and throw lock_busy when it is held; the manager
// retries the request later without holding up anyone else. Per thread, so clients
// in the same process (tests run a manager on a thread) still block as they should;
// initial-exec, so the check on a client's write path is one load.
[[gnu::tls_model("initial-exec")]] inline constinit thread_local bool segment_locks_never_wait = false;

// A lock the manager would have had to wait for (see segment_locks_never_wait).
class lock_busy : public error {
 public:
  explicit lock_busy(const robust_mutex& m, std::string_view what);
};

// Locks `m`: blocks, or in the manager only tries (lock_busy). Returns whether the
// previous owner died holding it.
inline bool lock_or_busy(robust_mutex& m, std::string_view what) {
  if (!segment_locks_never_wait) [[likely]]
    return m.lock();
  bool died = false;
  if (!m.try_lock(&died)) throw lock_busy(m, what);
  return died;
}

// RAII guard; owner_died() tells whether a dead holder's state had to be recovered.
class robust_lock {
 public:
  explicit robust_lock(robust_mutex& m, std::string_view what = "the name table")
      : mutex_(m), owner_died_(lock_or_busy(m, what)) {}
  robust_lock(robust_mutex& m, std::chrono::system_clock::time_point deadline)
      : mutex_(m), owner_died_(m.lock_until(deadline)) {}
  ~robust_lock() { mutex_.unlock(); }
  robust_lock(const robust_lock&) = delete;
  robust_lock& operator=(const robust_lock&) = delete;
  bool owner_died() const noexcept { return owner_died_; }

 private:
  robust_mutex& mutex_;
  bool owner_died_;
};

}  // namespace mpstate::core
