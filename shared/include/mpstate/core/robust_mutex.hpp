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

 private:
  bool after_lock(int rc);
  pthread_mutex_t native_;
};

// RAII guard; owner_died() tells whether a dead holder's state had to be recovered.
class robust_lock {
 public:
  explicit robust_lock(robust_mutex& m) : mutex_(m), owner_died_(m.lock()) {}
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
