// SPDX-License-Identifier: MIT
#include "wait_pool.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <ctime>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/segment.hpp"

namespace mpstate::manager {

namespace {
using steady = std::chrono::steady_clock;
// A watcher looks at its set at least this often (a cancel, a stop, a new wait).
constexpr auto recheck = std::chrono::milliseconds(100);
// A watcher with nothing to watch for this long ends.
constexpr auto idle_limit = std::chrono::seconds(1);
constexpr std::size_t per_watcher = FUTEX_WAITV_MAX - 1;  // one slot is the watcher's own word

futex_waitv waiter_on(const void* word, std::uint32_t expected) {
  return {expected, reinterpret_cast<std::uint64_t>(word), FUTEX_32, 0};
}
}  // namespace

struct wait_pool::entry {
  core::variable_record* record;
  std::uint64_t seen;
  steady::time_point deadline;
  done_fn done;                      // touched only by whoever claims the entry
  std::atomic<bool> claimed{false};  // answered, or cancelled
  bool registered = false;           // counted in record->waiters (its watcher's alone)
};

struct wait_pool::watcher {
  std::vector<std::shared_ptr<entry>> mine;  // under the pool's mutex_
  std::atomic<std::uint32_t> word{0};        // bumped and woken when `mine` changes
  std::atomic<bool> finished{false};
  std::thread thread;
  void poke() {
    word.fetch_add(1);
    syscall(SYS_futex, &word, FUTEX_WAKE, 1, nullptr, nullptr, 0);
  }
};

wait_pool::wait_pool(boost::asio::io_context& io) : io_(io) {}

std::shared_ptr<wait_pool::entry> wait_pool::start(core::variable_record* r, std::uint64_t seen,
                                                   steady::time_point deadline, done_fn done) {
  auto e = std::make_shared<entry>();
  e->record = r;
  e->seen = seen;
  e->deadline = deadline;
  e->done = std::move(done);
  std::lock_guard lock(mutex_);
  entries_.push_back(e);
  std::erase_if(watchers_, [](const auto& w) {  // those that ended for want of work
    if (!w->finished.load()) return false;
    w->thread.join();
    return true;
  });
  auto room =
      std::find_if(watchers_.begin(), watchers_.end(), [](const auto& w) { return w->mine.size() < per_watcher; });
  if (room == watchers_.end()) {
    watchers_.push_back(std::make_unique<watcher>());
    room = std::prev(watchers_.end());
    watcher* w = room->get();
    w->mine.push_back(e);
    w->thread = std::thread([this, w] { watch(*w); });
  } else {
    (*room)->mine.push_back(e);
    (*room)->poke();
  }
  return e;
}

// Only whoever wins `claimed` touches `done` (moves it into the answer, or drops
// it here), so the io thread and a watcher never assign it at once.
void wait_pool::cancel(entry& e) {
  if (!e.claimed.exchange(true)) e.done = nullptr;
}

void wait_pool::answer(entry& e, std::uint64_t version) {
  if (e.claimed.exchange(true)) return;
  boost::asio::post(io_, [done = std::move(e.done), version, seen = e.seen] { done(version, version != seen); });
}

// One watcher: registers as a waiter on each of its records (under the record's
// lock, as wait_for_change does, so no write can miss it; only tried, so a client
// stopped holding one delays that wait alone), sleeps on all their futex words and
// its own, answers what changed or timed out, and lets go of what is done.
void wait_pool::watch(watcher& w) {
  steady::time_point idle_since = steady::now();
  std::vector<std::shared_ptr<entry>> set;
  std::vector<futex_waitv> waiters;
  while (!stopping_.load()) {
    const std::uint32_t word = w.word.load();
    {
      std::lock_guard lock(mutex_);
      set = w.mine;
    }
    waiters.clear();
    bool retry_soon = false;
    steady::time_point wake_at = steady::now() + recheck;
    std::vector<std::shared_ptr<entry>> done;
    for (const auto& e : set) {
      core::variable_record& r = *e->record;
      if (!e->claimed.load() && steady::now() >= e->deadline) answer(*e, r.version.load(std::memory_order_acquire));
      if (!e->claimed.load() && !e->registered) {
        bool died = false;
        if (r.mutex.try_lock(&died)) {
          if (died) core::repair_after_dead_holder(r);
          // Registered before the version is read below (both seq_cst): a scalar's
          // writer takes no lock, commits and then reads `waiters` (wait_for_change).
          r.waiters.fetch_add(1, std::memory_order_seq_cst);
          e->registered = true;
          r.mutex.unlock();
        } else {
          retry_soon = true;
          continue;
        }
      }
      const std::uint64_t version = r.version.load(std::memory_order_seq_cst);
      if (version != e->seen || r.deleted() || steady::now() >= e->deadline) answer(*e, version);
      if (e->claimed.load()) {
        done.push_back(e);
        continue;
      }
      waiters.push_back(waiter_on(r.futex_word(), static_cast<std::uint32_t>(e->seen)));
      wake_at = std::min(wake_at, e->deadline);
    }
    if (!done.empty()) {
      std::lock_guard lock(mutex_);
      for (const auto& e : done) {
        if (e->registered) e->record->waiters.fetch_sub(1, std::memory_order_relaxed);
        core::segment::unbind(e->record);  // `done` went with whoever claimed it
        std::erase(w.mine, e);
        std::erase(entries_, e);
      }
      continue;  // look at the set again before sleeping
    }
    if (set.empty()) {
      if (steady::now() - idle_since > idle_limit) {
        std::lock_guard lock(mutex_);
        if (w.mine.empty()) {
          w.finished.store(true);
          return;
        }
      }
    } else {
      idle_since = steady::now();
    }
    if (retry_soon) wake_at = std::min(wake_at, steady::now() + std::chrono::milliseconds(1));
    waiters.push_back(waiter_on(&w.word, word));
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wake_at.time_since_epoch()).count();
    timespec until{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    if (syscall(SYS_futex_waitv, waiters.data(), static_cast<unsigned>(waiters.size()), 0, &until, CLOCK_MONOTONIC) <
            0 &&
        errno == ENOSYS) {
      // A kernel before 5.16: sleep on the watcher's own word until the next look
      // (waits are then answered within `recheck`, or at once by answer_changed()).
      const auto left = std::max<std::chrono::nanoseconds>(wake_at - steady::now(), std::chrono::nanoseconds(0));
      timespec rel{static_cast<time_t>(left.count() / 1'000'000'000), static_cast<long>(left.count() % 1'000'000'000)};
      syscall(SYS_futex, &w.word, FUTEX_WAIT, word, &rel, nullptr, 0);
    }
  }
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

std::size_t wait_pool::threads() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(watchers_.begin(), watchers_.end(), [](const auto& w) { return !w->finished.load(); }));
}

std::size_t wait_pool::pending() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

wait_pool::~wait_pool() {
  stopping_.store(true);
  {
    std::lock_guard lock(mutex_);
    for (auto& w : watchers_) w->poke();
  }
  for (auto& w : watchers_) w->thread.join();
  for (auto& e : entries_) {  // never answered
    if (e->registered) e->record->waiters.fetch_sub(1, std::memory_order_relaxed);
    core::segment::unbind(e->record);
  }
}

}  // namespace mpstate::manager
