// SPDX-License-Identifier: MIT
// Answers too large to make on the event loop (a dump of every variable, the JSON of
// a multi-megabyte value) are made on a thread of their own, and the line handed back
// on the event loop, where the connection sends it in order with its other answers.
// Meanwhile the loop serves every other connection: a dump of 100,000 variables, or
// clients asking for 16 MB values they never read, hold up nobody else.
#pragma once

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace mpstate::manager {

class answer_pool {
 public:
  explicit answer_pool(boost::asio::io_context& io);
  // Drops the jobs not started and joins the thread (the one running finishes first).
  ~answer_pool();
  answer_pool(const answer_pool&) = delete;
  answer_pool& operator=(const answer_pool&) = delete;

  // Runs make() on the pool's thread, then done(its line) on the io_context. make()
  // must not throw (it answers an error line instead), and touches only what is safe
  // off the event loop (the segment through locked lookups, bound records).
  void run(std::function<std::string()> make, std::function<void(std::string)> done);

 private:
  void work();
  struct job {
    std::function<std::string()> make;
    std::function<void(std::string)> done;
  };
  boost::asio::io_context& io_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> jobs_;   // under mutex_
  bool stopping_ = false;  // under mutex_
  std::thread thread_;
};

}  // namespace mpstate::manager
