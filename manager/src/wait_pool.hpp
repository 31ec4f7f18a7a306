// SPDX-License-Identifier: MIT
// Pending socket `wait`s, answered without polling, two ways:
//  - watcher threads sleep on the futex words of up to 127 variables each at once
//    (futex_waitv), so a write by a local proxy in another process wakes them; a
//    thousand pending waits cost eight threads, and a watcher left with nothing to
//    watch for a second ends;
//  - after every request the manager handles, answer_changed() answers at once,
//    on the io thread, the waits whose variable that request changed.
// Whichever sees the change first claims the wait; the other stands down.
// The destructor stops and joins every thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "mpstate/core/layout.hpp"

namespace mpstate::manager {

class wait_pool {
 public:
  using done_fn = std::function<void(std::uint64_t version, bool changed)>;
  struct entry;

  explicit wait_pool(boost::asio::io_context& io);
  ~wait_pool();
  wait_pool(const wait_pool&) = delete;
  wait_pool& operator=(const wait_pool&) = delete;

  // Waits until `r`'s version differs from `seen`, or `deadline`; then calls
  // done(version, changed) on the io thread. `r` must be bound; the pool unbinds it.
  // Calling the returned handle's cancel() abandons the wait (done is not called).
  std::shared_ptr<entry> start(core::variable_record* r, std::uint64_t seen,
                               std::chrono::steady_clock::time_point deadline, done_fn done);
  static void cancel(entry& e);
  // On the io thread: answers the waits whose variable changed.
  void answer_changed();
  // Watcher threads running now, and waits pending (for stat and the tests).
  std::size_t threads() const;
  std::size_t pending() const;

 private:
  struct watcher;
  void watch(watcher& w);
  // Answers `e` unless someone claimed it first.
  void answer(entry& e, std::uint64_t version);
  boost::asio::io_context& io_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<entry>> entries_;     // pending, under mutex_
  std::vector<std::unique_ptr<watcher>> watchers_;  // under mutex_
  std::atomic<bool> stopping_{false};
};

}  // namespace mpstate::manager
