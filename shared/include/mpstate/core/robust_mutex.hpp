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

#include "mpstate/core/op_context.hpp"
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

// A lock an op whose context may not wait (op_context::may_wait: the manager's
// event loop) met held. The manager retries the request later (retry_later) without
// holding up anyone else. Contexts are per thread, so clients in the same process
// (tests run a manager on a thread) still block as they should.
class lock_busy : public error {
 public:
  explicit lock_busy(const robust_mutex& m, std::string_view what);
};

// Locks `m`: blocks, or under a context that may not wait only tries (lock_busy).
// Returns whether the previous owner died holding it.
inline bool lock_or_busy(robust_mutex& m, std::string_view what) {
  if (ops_may_wait()) [[likely]]
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
