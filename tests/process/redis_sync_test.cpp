// SPDX-License-Identifier: MIT
// The Redis backend's locks, semaphores, loops, events, dicts and namespaces,
// against a real redis-server (redis_fixture): ownership by lease (a SIGKILLed lock
// holder or loop owner is recovered and the next one told; a live one keeps what it
// holds), and the job-scheduler example unchanged. Queues: redis_queue_test.cpp.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(redis_sync, redis_fixture)

// ---- 5. locks and semaphores by lease ----

BOOST_AUTO_TEST_CASE(a_lock_makes_read_modify_write_exact_across_three_processes) {
  Client c = new_client("lease_ms=500");
  Lock lock = c.lock("rmw/lock");
  auto n = c.create<std::int64_t>("rmw/n", 0);
  constexpr int children = 3, rounds = 100;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i) {
    pids.push_back(spawn([&] {
      Client mine = new_client("lease_ms=500");
      Lock l = mine.lock("rmw/lock");
      auto v = mine.value<std::int64_t>("rmw/n");
      for (int k = 0; k < rounds; ++k) {
        std::lock_guard guard(l);
        v.set(v.get() + 1);  // not atomic by itself: only the lock makes it exact
      }
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p, 60s).value_or(-100) == 0);
  BOOST_TEST(n.get() == children * rounds);
  BOOST_TEST(!lock.locked());
  BOOST_TEST((error_of([&] { lock.release(); }) == errc::invalid_argument));  // not held
}

BOOST_AUTO_TEST_CASE(a_sigkilled_holder_loses_the_lock_at_its_lease_and_the_next_acquirer_is_told) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  Lock lock = c.lock("mutex");
  pid_t holder = rb_child_holding([&] {
    static std::optional<Client> keep;  // the client (and its lease) live until the kill
    static std::optional<Lock> held;
    keep.emplace(ClientOptions{.manager_name = leased});
    held.emplace(keep->lock("mutex"));
    if (!held->acquire(2s).acquired) throw std::runtime_error("the holder could not acquire");
  });
  BOOST_TEST(lock.locked());
  BOOST_TEST(!lock.acquire(100ms).acquired);  // held by the child
  kill_now(holder);
  AcquireResult got;
  const milliseconds took = time_of([&] { got = lock.acquire(5s); });
  BOOST_REQUIRE(got.acquired);
  BOOST_TEST(got.previous_owner_died);
  BOOST_TEST(took < 3s, "took " << took.count() << " ms");  // about the 500 ms lease
  lock.release();
  got = lock.acquire(1s);
  BOOST_TEST(got.acquired);
  BOOST_TEST(!got.previous_owner_died);  // told once
  lock.release();
}

BOOST_AUTO_TEST_CASE(a_live_holder_keeps_the_lock_past_several_leases) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  Lock lock = c.lock("kept");
  // The holder's main thread only sleeps in pause(): the lease is renewed by the
  // client's own background thread.
  pid_t holder = rb_child_holding([&] {
    static std::optional<Client> keep;
    static std::optional<Lock> held;
    keep.emplace(ClientOptions{.manager_name = leased});
    held.emplace(keep->lock("kept"));
    if (!held->acquire(2s).acquired) throw std::runtime_error("the holder could not acquire");
  });
  const auto start = steady_clock::now();
  int attempts = 0, won = 0;
  while (steady_clock::now() - start < 1600ms) {  // over 3 leases of 500 ms
    if (lock.acquire(100ms).acquired) ++won;
    ++attempts;
  }
  BOOST_TEST(won == 0, "the parent took a lock its live holder never released");
  BOOST_TEST(attempts >= 5);
  BOOST_TEST(lock.locked());
  BOOST_TEST(!wait_exit(holder, 0ms).has_value());  // still alive
  kill_now(holder);
  const AcquireResult got = lock.acquire(5s);
  BOOST_TEST(got.acquired);
  BOOST_TEST(got.previous_owner_died);
}

// A fork child that uses its parent's client and proxies gets a channel of its own:
// the parent's lease thread (and its lock, possibly held at the fork) stays behind.
BOOST_AUTO_TEST_CASE(a_fork_child_uses_its_parents_proxies_after_the_parent_held_a_lock) {
  Client c = rb_connect(url());
  Lock lock = c.lock("forked");
  auto n = c.create<std::int64_t>("forked/n", 0);
  lock.acquire();  // starts the parent's lease thread
  lock.release();
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    children.push_back(spawn([&] {
      for (int k = 0; k < 50; ++k) {
        LockGuard guard(lock);
        n.set(n.get() + 1);
      }
      return 0;
    }));
  }
  for (pid_t p : children) BOOST_TEST(wait_exit(p, 30s).value_or(-1) == 0);
  BOOST_TEST(n.get() == 100);
}

// A fork child that drops the parent's client without a call (its last reference
// goes): the parent's lease thread is not the child's to stop, and it must not hang.
BOOST_AUTO_TEST_CASE(a_fork_child_that_destroys_its_parents_client_exits) {
  std::optional<Client> c(rb_connect(url()));
  {
    Lock lock = c->lock("dropped");
    lock.acquire();  // the parent's lease thread runs from here on
    lock.release();
  }
  pid_t child = spawn([&] {
    c.reset();  // the child's copy of the last reference to the client's core
    return 0;
  });
  BOOST_TEST(wait_exit(child, 20s).value_or(-1) == 0);
}

// A holder stopped (SIGSTOP) past its lease loses the lock; when it runs again its
// release is refused, and the process that took the lock over keeps it.
BOOST_AUTO_TEST_CASE(a_holder_stopped_past_its_lease_cannot_release_its_successors_lock) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  Lock lock = c.lock("paused");
  int told[2];
  BOOST_REQUIRE(::pipe(told) == 0);
  pid_t holder = spawn([&] {
    Client mine = rb_connect(leased);
    Lock theirs = mine.lock("paused");
    theirs.acquire();
    char byte = 'h';
    if (::write(told[1], &byte, 1) != 1) return 3;
    ::raise(SIGSTOP);  // stopped here, past its lease
    return error_of([&] { theirs.release(); }) == errc::ownership_lost ? 0 : 4;
  });
  char byte;
  BOOST_REQUIRE(::read(told[0], &byte, 1) == 1);
  BOOST_REQUIRE(eventually(
      [&] {  // stopped, then its lease lapses and we take the lock
        return lock.acquire(100ms).acquired;
      },
      10s));
  ::kill(holder, SIGCONT);
  BOOST_TEST(wait_exit(holder, 20s).value_or(-1) == 0);
  BOOST_TEST(lock.state().at("locked").get<bool>());  // still ours
  BOOST_TEST(lock.state().at("holder_pid").get<pid_t>() == ::getpid());
  lock.release();
  ::close(told[0]);
  ::close(told[1]);
}

BOOST_AUTO_TEST_CASE(an_rlock_is_reentrant_for_its_holder_only) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  RLock r = c.rlock("re");
  auto other_acquires = [&](milliseconds timeout) {
    pid_t other = spawn([&] {
      Client mine = rb_connect(leased);
      RLock theirs = mine.rlock("re");
      if (!theirs.acquire(timeout).acquired) return 10;
      theirs.release();
      return 0;
    });
    return wait_exit(other, 20s).value_or(-100);
  };
  BOOST_TEST(r.acquire(1s).acquired);
  BOOST_TEST(r.acquire(1s).acquired);  // again, the same holder: no deadlock
  BOOST_TEST(r.locked());
  BOOST_TEST(other_acquires(200ms) == 10);
  r.release();
  BOOST_TEST(r.locked());  // still held once
  BOOST_TEST(other_acquires(200ms) == 10);
  r.release();
  BOOST_TEST(!r.locked());
  BOOST_TEST((error_of([&] { r.release(); }) == errc::invalid_argument));  // not held
  BOOST_TEST(other_acquires(2s) == 0);
}

BOOST_AUTO_TEST_CASE(a_semaphore_of_two_lets_two_holders_in_and_never_three) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  // Two children hold a permit each; a third cannot get one until one comes back.
  Semaphore slots = c.semaphore("slots", 2);
  BOOST_TEST(slots.value() == 2);
  auto hold_one = [&] {
    static std::optional<Client> keep;
    static std::optional<Semaphore> sem;
    keep.emplace(ClientOptions{.manager_name = leased});
    sem.emplace(keep->semaphore("slots", 2));
    if (!sem->acquire(2s)) throw std::runtime_error("the holder got no permit");
  };
  pid_t a = rb_child_holding(hold_one);
  pid_t b = rb_child_holding(hold_one);
  BOOST_TEST(slots.value() == 0);
  auto third_acquires = [&](milliseconds timeout) {
    pid_t third = spawn([&] {
      Client mine = rb_connect(leased);
      return mine.semaphore("slots", 2).acquire(timeout) ? 0 : 10;
    });
    return wait_exit(third, 20s).value_or(-100);
  };
  BOOST_TEST(third_acquires(200ms) == 10);
  slots.release();  // a counter, as in Python: anyone may give a permit back
  BOOST_TEST(third_acquires(2s) == 0);
  kill_now(a);
  kill_now(b);

  // Three children contending for a pool of two: never more than two inside.
  Semaphore pool = c.semaphore("pool", 2);
  auto inside = c.create<std::int64_t>("pool-inside", 0);
  auto peak = c.create<std::int64_t>("pool-peak", 0);
  auto entries = c.create<std::int64_t>("pool-entries", 0);
  constexpr int children = 3, rounds = 30;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i) {
    pids.push_back(spawn([&] {
      Client mine = rb_connect(leased);
      Semaphore s = mine.semaphore("pool", 2);
      auto in = mine.value<std::int64_t>("pool-inside");
      auto top = mine.value<std::int64_t>("pool-peak");
      auto count = mine.value<std::int64_t>("pool-entries");
      for (int k = 0; k < rounds; ++k) {
        if (!s.acquire(10s)) return 2;
        const std::int64_t now_inside = in.add(1);
        top.update([&](std::int64_t p) { return std::max(p, now_inside); });
        count.add(1);
        in.add(-1);
        s.release();
      }
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p, 60s).value_or(-100) == 0);
  BOOST_TEST(entries.get() == children * rounds);
  BOOST_TEST(peak.get() >= 1);
  BOOST_TEST(peak.get() <= 2);
  BOOST_TEST(inside.get() == 0);
  BOOST_TEST(pool.value() == 2);
}

// ---- 6. loop state ----

BOOST_AUTO_TEST_CASE(a_child_loop_runs_is_asked_to_stop_and_ends_stopped) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  LoopState loop = c.loop("sched");
  BOOST_TEST((loop.state() == LoopPhase::idle));
  pid_t child = spawn([&] {
    Client mine = rb_connect(leased);
    LoopState l = mine.loop("sched");
    l.mark_starting();
    l.mark_running();
    while (!l.stop_requested()) {
      l.heartbeat();
      std::this_thread::sleep_for(1ms);  // the loop's own work
    }
    l.mark_stopped();
    return 0;
  });
  BOOST_REQUIRE((loop.wait_for(LoopPhase::running, 5s) == LoopPhase::running));
  BOOST_TEST(loop.info().pid == child);
  BOOST_TEST(eventually([&] { return loop.info().iterations > 0; }, 5s));
  BOOST_TEST((loop.request_stop() == LoopPhase::stopping));
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, 5s) == LoopPhase::stopped));
  BOOST_TEST(wait_exit(child, 10s).value_or(-100) == 0);
  BOOST_TEST(loop.info().iterations > 0u);
  BOOST_TEST((loop.request_stop() == LoopPhase::stopped));  // nothing left to stop
}

BOOST_AUTO_TEST_CASE(a_loop_owner_alive_stays_running_and_sigkilled_turns_failed) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  LoopState loop = c.loop("owned");
  // The owner marks running and then only sleeps: no heartbeats; its client's
  // background thread keeps the lease.
  pid_t owner = rb_child_holding([&] {
    static std::optional<Client> keep;
    keep.emplace(ClientOptions{.manager_name = leased});
    LoopState l = keep->loop("owned");
    l.mark_starting();
    l.mark_running();
  });
  BOOST_TEST((loop.state() == LoopPhase::running));
  // Over 3 leases: neither stopped nor failed while the owner lives.
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, 1600ms) == LoopPhase::running));
  kill_now(owner);
  LoopPhase seen = LoopPhase::idle;
  const milliseconds took = time_of([&] { seen = loop.wait_for(LoopPhase::stopped, 5s); });
  BOOST_TEST((seen == LoopPhase::failed));
  BOOST_TEST(took < 3s, "took " << took.count() << " ms");
  BOOST_TEST((loop.state() == LoopPhase::failed));
  BOOST_TEST(!loop.info().reason.empty());
}

// The job-scheduler example (examples/job_scheduler.cpp), unchanged, given the URL:
// the parent sees its forked child's loop run, asks it to stop, and sees it stopped.
BOOST_AUTO_TEST_CASE(the_job_scheduler_example_runs_unchanged_against_redis) {
  const std::string where = url("lease_ms=1000");
  auto r = run_command(std::string(MPSTATE_JOB_SCHEDULER_PATH) + " --manager '" + where + "' 2>&1");
  BOOST_TEST(r.exit_code == 0, r.output);
  BOOST_TEST(r.output.find("the parent sees \"running\"") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("final state \"stopped\"") != std::string::npos, r.output);
  Client c = rb_connect(where);
  BOOST_TEST((c.loop("scheduler/loop").state() == LoopPhase::stopped));
  BOOST_TEST(c.value<std::int64_t>("scheduler/jobs_done").get() > 0);
}

// ---- 7. events ----

BOOST_AUTO_TEST_CASE(an_event_set_and_cleared_in_one_process_is_seen_in_another) {
  Client c = new_client();
  Event ev = c.event("go");
  BOOST_TEST(!ev.is_set());
  milliseconds took = time_of([&] { BOOST_TEST(!ev.wait(100ms)); });
  BOOST_TEST(took >= 100ms);
  pid_t waiter = spawn([&] { return rb_connect(url()).event("go").wait(20s) ? 0 : 1; });
  BOOST_TEST(!wait_exit(waiter, 200ms).has_value());  // it waits: nothing set it
  ev.set();
  took = time_of([&] { BOOST_TEST(wait_exit(waiter, 10s).value_or(-100) == 0); });
  BOOST_TEST(took < 3s);
  BOOST_TEST(ev.is_set());
  BOOST_TEST(ev.wait(0ms));  // set: no waiting

  pid_t clearer = spawn([&] {
    rb_connect(url()).event("go").clear();
    return 0;
  });
  BOOST_TEST(wait_exit(clearer, 10s).value_or(-100) == 0);
  BOOST_TEST(!ev.is_set());
  pid_t setter = spawn([&] {
    rb_connect(url()).event("go").set();
    return 0;
  });
  BOOST_TEST(ev.wait(10s));
  BOOST_TEST(wait_exit(setter, 10s).value_or(-100) == 0);
}

// ---- 8. dict and namespace ----

BOOST_AUTO_TEST_CASE(a_dict_and_a_namespace_work_over_redis) {
  Client c = new_client();
  auto d = c.dict<std::int64_t>("counts");
  BOOST_TEST(d.size() == 0u);
  BOOST_TEST(!d.find("a").has_value());
  BOOST_TEST((error_of([&] { d.get("a"); }) == errc::not_found));
  d.set("b", 2);
  d.set("a", 1);
  pid_t child = spawn([&] {
    auto mine = rb_connect(url()).dict<std::int64_t>("counts");
    mine.set("c", 3);
    mine.update("a", [](std::int64_t v) { return v + 10; });
    return 0;
  });
  BOOST_TEST(wait_exit(child, 10s).value_or(-100) == 0);
  BOOST_TEST((d.keys() == std::vector<std::string>{"a", "b", "c"}));
  BOOST_TEST(d.get("a") == 11);
  BOOST_TEST(d.get("c") == 3);
  BOOST_TEST(d.contains("b"));
  BOOST_TEST(d.erase("b"));
  BOOST_TEST(!d.erase("b"));
  BOOST_TEST(!d.contains("b"));
  BOOST_TEST(d.get_or("b", -1) == -1);
  BOOST_TEST(d.size() == 2u);
  BOOST_TEST(c.value<std::int64_t>("counts/c").get() == 3);  // keys are variables "<name>/<key>"

  Namespace ns = c.ns("cfg");
  ns.set<std::string>("host", "example.org");
  ns.set<std::int64_t>("port", 80);
  ns.set<std::int64_t>("port", 8080);
  BOOST_TEST(ns.get<std::string>("host") == "example.org");
  BOOST_TEST(ns.get<std::int64_t>("port") == 8080);
  BOOST_TEST(ns.has("host"));
  BOOST_TEST((ns.names() == std::vector<std::string>{"host", "port"}));
  BOOST_TEST((error_of([&] { ns.get<std::int64_t>("host"); }) == errc::type_mismatch));
  BOOST_TEST(ns.erase("host"));
  BOOST_TEST(!ns.has("host"));
}

BOOST_AUTO_TEST_SUITE_END()
