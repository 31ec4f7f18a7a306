// SPDX-License-Identifier: MIT
#include "answer_pool.hpp"

#include <boost/asio/post.hpp>

namespace mpstate::manager {

answer_pool::answer_pool(boost::asio::io_context& io) : io_(io), thread_([this] { work(); }) {}

answer_pool::~answer_pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  thread_.join();
}

void answer_pool::run(std::function<std::string()> make, std::function<void(std::string)> done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({std::move(make), std::move(done)});
  }
  wake_.notify_one();
}

void answer_pool::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    job next = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    std::string line = next.make();
    boost::asio::post(io_, [done = std::move(next.done), line = std::move(line)]() mutable { done(std::move(line)); });
    lock.lock();
  }
}

}  // namespace mpstate::manager
