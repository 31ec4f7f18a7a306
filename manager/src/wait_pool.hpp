// Pending socket `wait`s, answered without polling, two ways:
//  - a pooled thread per pending wait sleeps on the variable's futex (a local proxy
//    in another process wrote it) and posts the answer to the io_context; threads
//    are reused, and the pool grows to the number of waits pending at once;
//  - after every request the manager handles, answer_changed() answers at once,
//    on the io thread, the waits whose variable that request changed.
// Whichever sees the change first claims the wait; the other stands down.
// The destructor stops and joins every thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <thread>
#include <memory>
#include <mutex>
#include <vector>

#include "mpstate/core/layout.hpp"

namespace mpstate::manager {

class wait_pool {
 public:
  using done_fn = std::function<void(std::uint64_t version, bool changed)>;
  struct entry;

  explicit wait_pool(boost::asio::io_context& io) : io_(io) {}
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

 private:
  void worker();
  void run(std::shared_ptr<entry> e);
  boost::asio::io_context& io_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::vector<std::shared_ptr<entry>> entries_;  // pending, under mutex_
  std::deque<std::shared_ptr<entry>> queue_;     // not yet picked up by a thread
  std::size_t idle_threads_ = 0;                 // under mutex_
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

}  // namespace mpstate::manager
