#include "wait_pool.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <thread>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/segment.hpp"

namespace mpstate::manager {

namespace {
// How often a sleeping waiter checks whether it was claimed, cancelled, or the pool stops.
constexpr auto recheck = std::chrono::milliseconds(100);
}  // namespace

struct wait_pool::entry {
  core::variable_record* record;
  std::uint64_t seen;
  std::chrono::steady_clock::time_point deadline;
  done_fn done;                      // touched only by whoever claims the entry
  std::atomic<bool> claimed{false};  // answered, or cancelled
};

std::shared_ptr<wait_pool::entry> wait_pool::start(core::variable_record* r, std::uint64_t seen,
                                                   std::chrono::steady_clock::time_point deadline,
                                                   done_fn done) {
  auto e = std::make_shared<entry>();
  e->record = r;
  e->seen = seen;
  e->deadline = deadline;
  e->done = std::move(done);
  std::lock_guard lock(mutex_);
  entries_.push_back(e);
  queue_.push_back(e);
  if (idle_threads_ == 0) {
    threads_.emplace_back([this] { worker(); });  // every thread is busy: one more
  } else {
    --idle_threads_;
    work_.notify_one();
  }
  return e;
}

void wait_pool::worker() {
  std::unique_lock lock(mutex_);
  while (true) {
    work_.wait(lock, [this] { return stopping_.load() || !queue_.empty(); });
    if (stopping_.load()) return;
    std::shared_ptr<entry> e = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    run(std::move(e));
    lock.lock();
    ++idle_threads_;
  }
}

void wait_pool::cancel(entry& e) {
  if (!e.claimed.exchange(true)) e.done = nullptr;
}

void wait_pool::run(std::shared_ptr<entry> e) {
  core::variable_record& r = *e->record;
  while (!e->claimed.load() && !stopping_.load()) {
    auto left = e->deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    std::uint64_t v = core::wait_for_change(r, e->seen, std::min<std::chrono::nanoseconds>(left, recheck));
    if (v != e->seen || r.deleted()) break;
  }
  const std::uint64_t version = r.version.load();
  if (!stopping_.load() && !e->claimed.exchange(true)) {
    boost::asio::post(io_, [done = std::move(e->done), version, seen = e->seen] {
      done(version, version != seen);
    });
  }
  std::lock_guard lock(mutex_);
  entries_.erase(std::remove(entries_.begin(), entries_.end(), e), entries_.end());
  core::segment::unbind(e->record);
  e->done = nullptr;  // drop what it holds (a connection) here, not in the io thread's absence
}

void wait_pool::answer_changed() {
  std::vector<std::pair<done_fn, std::uint64_t>> ready;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
      std::uint64_t v = e->record->version.load();
      if (v != e->seen && !e->claimed.exchange(true)) ready.emplace_back(std::move(e->done), v);
    }
  }
  for (auto& [done, version] : ready) done(version, true);  // outside the lock: done may start waits
}

wait_pool::~wait_pool() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();  // a sleeping waiter notices within `recheck`
  for (auto& e : queue_) core::segment::unbind(e->record);  // never picked up
}

}  // namespace mpstate::manager
