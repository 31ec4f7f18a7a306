// SPDX-License-Identifier: MIT
// The side that loses is told, on the Redis backend: holders whose leases lapsed (the
// holder stopped, or the Redis server paused past the lease) are told ownership_lost
// at their next op and never free their successor's lock; a released lock brought
// back by a restart from an older snapshot is not renewed; Redis that lost its data
// is told once and epochs and versions go on from above; a blocked thread never
// holds up the others; a returned queue item reaches a consumer already blocked; and
// fenced writes are one atomic script.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "fence_checks.hpp"
#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;

namespace {

// A child that runs `take` with its own client, reports through `ready`, waits for a
// byte on `go`, then returns what `after` returns.
pid_t leased_child(const std::string& url, int ready, int go, const std::function<void(Client&)>& take,
                   const std::function<int(Client&)>& after) {
  return spawn([=] {
    Client c = rb_connect(url);
    take(c);
    char byte = 'r';
    if (::write(ready, &byte, 1) != 1) return 90;
    if (::read(go, &byte, 1) != 1) return 91;
    return after(c);
  });
}

struct pipe_pair {
  pipe_pair() { BOOST_REQUIRE(::pipe(fd) == 0); }
  ~pipe_pair() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  void take() const {
    char byte;
    BOOST_REQUIRE(::read(fd[0], &byte, 1) == 1);
  }
  void give() const { [[maybe_unused]] auto n = ::write(fd[1], "g", 1); }
  int fd[2];
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(redis_ownership, redis_fixture)

BOOST_AUTO_TEST_CASE(a_stale_fence_is_refused_on_redis) {
  Client c = new_client();
  a_stale_fence_is_refused_and_changes_nothing(c);
}

// A lapses, B lapses, C takes the lock, then A and B resume: neither frees C's lock.
BOOST_AUTO_TEST_CASE(holders_whose_leases_lapsed_one_after_another_never_free_the_last_ones_lock) {
  const std::string leased = url("lease_ms=400");
  Client c = rb_connect(leased);
  Lock lock = c.lock("abc");
  std::vector<pid_t> stopped;
  for (int i = 0; i < 2; ++i) {
    pipe_pair ready;
    const int ready_fd = ready.fd[1];
    stopped.push_back(spawn([&, ready_fd] {
      Client mine = rb_connect(leased);
      Lock l = mine.lock("abc");
      l.acquire();
      [[maybe_unused]] auto n = ::write(ready_fd, "h", 1);
      ::raise(SIGSTOP);  // its lease lapses while it is stopped
      return error_of([&] { l.release(); }) == errc::ownership_lost ? 0 : 4;
    }));
    ready.take();
  }
  AcquireResult got;
  BOOST_REQUIRE(eventually([&] { return (got = lock.acquire(100ms)).acquired; }, 10s));
  BOOST_TEST(got.previous_owner_died);
  for (pid_t p : stopped) {
    ::kill(p, SIGCONT);
    BOOST_TEST(wait_exit(p, 20s).value_or(-1) == 0);
  }
  BOOST_TEST(lock.state().at("holder_pid").get<pid_t>() == ::getpid());
  BOOST_TEST(lock.state().at("fence").get<std::uint64_t>() == got.fence);
  lock.release();
}

// The Redis server paused past the lease while the holders live: the next acquirer is
// told owner_died, a loop turns failed, and the holders are told at their next op.
BOOST_AUTO_TEST_CASE(a_paused_server_ends_leases_and_their_holders_are_told_at_their_next_op) {
  const std::string leased = url("lease_ms=800");
  Client c = rb_connect(leased);
  Lock lock = c.lock("paused/lock");
  auto n = c.value_or_create<std::int64_t>("paused/n", 0);
  LoopState loop = c.loop("paused/loop");
  pipe_pair ready, go;
  pid_t holder = spawn([&] {
    Client mine = rb_connect(leased);
    Lock l = mine.lock("paused/lock");
    auto v = mine.value<std::int64_t>("paused/n");
    LoopState owned = mine.loop("paused/loop");
    l.acquire();
    v.add(1, l.fence());
    owned.mark_starting();
    owned.mark_running();
    [[maybe_unused]] auto w = ::write(ready.fd[1], "r", 1);
    char byte;
    if (::read(go.fd[0], &byte, 1) != 1) return 90;
    int failures = 0;  // the server was paused past the lease meanwhile
    failures += error_of([&] { v.add(1, l.fence()); }) != errc::ownership_lost;
    failures += error_of([&] { owned.heartbeat(); }) != errc::ownership_lost;
    failures += error_of([&] { l.release(); }) != errc::ownership_lost;
    return failures;
  });
  ready.take();
  BOOST_TEST(n.get() == 1);
  ::kill(redis.pid(), SIGSTOP);
  std::this_thread::sleep_for(2s);  // the fault: the server paused for 2.5 leases
  ::kill(redis.pid(), SIGCONT);
  AcquireResult got = lock.acquire(5s);
  BOOST_TEST(got.acquired);
  BOOST_TEST(got.previous_owner_died);
  BOOST_TEST((loop.state() == LoopPhase::failed));
  go.give();
  BOOST_TEST(wait_exit(holder, 20s).value_or(-1) == 0);
  BOOST_TEST(n.get() == 1);
  lock.release();
}

BOOST_AUTO_TEST_CASE(an_owner_that_lost_its_lease_is_told_by_its_own_proxies) {
  const std::string leased = url("lease_ms=800");
  Client c = rb_connect(leased);
  Lock lock = c.lock("own/lock");
  pipe_pair ready, go;
  pid_t holder = spawn([&] {
    Client mine = rb_connect(leased);
    Lock l = mine.lock("own/lock");
    auto v = mine.value_or_create<std::int64_t>("own/n", 0);
    LoopState owned = mine.loop("own/loop");
    l.acquire();
    owned.mark_starting();
    owned.mark_running();
    [[maybe_unused]] auto w = ::write(ready.fd[1], "r", 1);
    ::raise(SIGSTOP);
    int failures = 0;
    failures += error_of([&] { v.add(1, l.fence()); }) != errc::ownership_lost;
    failures += error_of([&] { owned.heartbeat(); }) != errc::ownership_lost;
    failures += error_of([&] { owned.mark_stopped(); }) != errc::ownership_lost;
    failures += error_of([&] { l.release(); }) != errc::ownership_lost;
    return failures;
  });
  ready.take();
  BOOST_REQUIRE(eventually([&] { return lock.acquire(100ms).acquired; }, 10s));
  // Both leases lapsed (the loop's, taken a moment after the lock's, too) before it runs on.
  BOOST_REQUIRE(eventually([&] { return c.loop("own/loop").state() == LoopPhase::failed; }, 10s));
  ::kill(holder, SIGCONT);
  BOOST_TEST(wait_exit(holder, 20s).value_or(-1) == 0);
  BOOST_TEST(c.value<std::int64_t>("own/n").get() == 0);
  BOOST_TEST((c.loop("own/loop").state() == LoopPhase::failed));
  lock.release();
}

// Released, then brought back by a restart from a snapshot taken while it was held:
// the releaser's lease keeper does not renew it, so it lapses and is taken.
BOOST_AUTO_TEST_CASE(a_released_lock_brought_back_by_an_older_snapshot_is_never_renewed) {
  const std::string leased = url("lease_ms=800");
  pipe_pair ready, go;
  pid_t releaser = leased_child(
      leased, ready.fd[1], go.fd[0],
      [&](Client& mine) {
        Lock l = mine.lock("snap/lock");
        l.acquire();
        BOOST_REQUIRE(redis.cli("SAVE").exit_code == 0);  // the snapshot holds the lock taken
        l.release();
        mine.lock("snap/other").acquire();  // its lease keeper runs on, for this one
      },
      [](Client&) { return 0; });
  ready.take();
  redis.kill_now();
  redis.restart();  // from the snapshot: "snap/lock" held by the releaser again
  Client c = rb_connect(leased);
  Lock lock = c.lock("snap/lock");
  AcquireResult got;
  BOOST_TEST((time_of([&] { got = lock.acquire(10s); }) < 4s));
  BOOST_TEST(got.acquired);
  BOOST_TEST(got.previous_owner_died);
  go.give();
  BOOST_TEST(wait_exit(releaser, 20s).value_or(-1) == 0);
}

// Redis restarted without its data: told once, and epochs and versions go on from
// above where they were.
BOOST_AUTO_TEST_CASE(redis_that_lost_its_data_is_told_once_and_nothing_goes_backwards) {
  Client c = new_client();
  auto v = c.value_or_create<std::int64_t>("lost/n", 0);
  for (int i = 0; i < 100; ++i) v.add(1);
  const std::uint64_t version_before = v.version();
  Lock lock = c.lock("lost/lock");
  const std::uint64_t fence_before = lock.acquire().fence;
  lock.release();
  redis.kill_now();
  redis.restart();  // no snapshot, no append-only file: everything is gone
  rb_failure f;
  for (int i = 0; i < 5 && f.code != errc::manager_unavailable; ++i) f = rb_failure_of([&] { v.set(7); });
  BOOST_TEST((f.code == errc::manager_unavailable), f.what);
  BOOST_TEST(rb_mentions(f.what, "lost the data"), f.what);
  v.set(7);  // then served: a new variable
  BOOST_TEST(v.get() == 7);
  BOOST_TEST(v.version() > version_before);
  Lock again = c.lock("lost/lock");
  BOOST_TEST(again.acquire().fence > fence_before);
  again.release();
}

// One thread blocked in a wait or a queue get never holds up the other threads of
// the process (they share the client, as Python's proxies of one URL do).
BOOST_AUTO_TEST_CASE(a_thread_blocked_in_a_wait_or_a_get_holds_up_no_other_thread) {
  Client c = new_client();
  auto v = c.value_or_create<std::int64_t>("th/v", 1);
  auto q = c.queue<std::int64_t>("th/q");
  std::atomic<bool> waiting{true};
  std::thread blocked([&] {
    v.wait_for_change(v.version(), 3s);  // nobody writes: the whole 3 s
    waiting = false;
  });
  std::int64_t got = 0;
  std::thread consumer([&] { got = q.get(5s).value_or(-1); });
  milliseconds worst{0};
  for (int i = 0; i < 50; ++i) worst = std::max(worst, time_of([&] { BOOST_REQUIRE(v.get() == 1); }));
  BOOST_TEST(waiting.load());
  BOOST_TEST((worst < 200ms), worst.count() << " ms");
  const auto delivered = time_of([&] {
    q.put(42);
    consumer.join();
  });
  BOOST_TEST(got == 42);
  BOOST_TEST((delivered < 1s), delivered.count() << " ms");
  blocked.join();
}

// A consumer took an item and died before acknowledging it: the item goes back when
// the take's lease lapses, to a consumer that was already blocked in get().
BOOST_AUTO_TEST_CASE(an_item_returned_by_a_dead_consumer_reaches_one_already_blocked) {
  const std::string leased = url("lease_ms=600");
  Client c = rb_connect(leased);
  auto q = c.queue<std::int64_t>("ret/q");
  q.put(5);
  // The dead consumer's take, as its script left it: the head moved to the taken
  // items with a lease that runs out in 300 ms.
  const std::string key = prefix + "{ret/q}";
  BOOST_REQUIRE(redis.cli("LPOP '" + key + ":x'").output.find('5') != std::string::npos);
  const auto now_ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  BOOST_REQUIRE(redis.cli("HSET '" + key + ":t' i:ghost 5 e:ghost " + std::to_string(now_ms + 300)).exit_code == 0);
  std::optional<std::int64_t> got;
  const auto took = time_of([&] { got = q.get(10s); });  // blocked from before the lapse
  BOOST_TEST(got.value_or(-1) == 5);
  BOOST_TEST((took < 2s), took.count() << " ms");
}

BOOST_AUTO_TEST_SUITE_END()
