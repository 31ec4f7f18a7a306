// SPDX-License-Identifier: MIT
// Lock, RLock, Semaphore, BoundedSemaphore, Event and Barrier across real processes:
// exact results under contention, timeouts that time out, and a holder or party
// SIGKILLed while holding or waiting, for every type that can be held.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(sync_types, manager_fixture)

BOOST_AUTO_TEST_CASE(a_lock_makes_read_modify_write_exact_across_four_processes) {
  auto lock = client->lock("rmw/lock");
  client->create<std::int64_t>("rmw/n", 0);
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    children.push_back(spawn([&] {
      Client c(name);
      auto l = c.lock("rmw/lock");
      auto n = c.value<std::int64_t>("rmw/n");
      for (int i = 0; i < 2000; ++i) {
        std::lock_guard guard(l);
        n.set(n.get() + 1);  // not atomic by itself: only the lock makes it exact
      }
      return 0;
    }));
  }
  for (pid_t c : children) BOOST_TEST(wait_exit(c, 60s).value() == 0);
  BOOST_TEST(client->value<std::int64_t>("rmw/n").get() == 8000);
  BOOST_TEST(lock.state()["acquisitions"] == 8000);
  BOOST_TEST(!lock.locked());
}

BOOST_AUTO_TEST_CASE(a_sigkilled_lock_holder_is_evicted_and_the_next_acquirer_is_told) {
  auto lock = client->lock("dead/lock");
  pid_t child = child_holding([&] { lock.acquire(); });
  BOOST_TEST(!lock.try_lock());
  BOOST_TEST(!lock.acquire(50ms).acquired);  // a timeout that times out
  kill_now(child);
  AcquireResult got;
  BOOST_TEST((time_of([&] { got = lock.acquire(2s); }) < 200ms));
  BOOST_TEST(got.acquired);
  BOOST_TEST(got.previous_owner_died);
  lock.release();
  BOOST_TEST(!lock.acquire().previous_owner_died);  // told once
  lock.release();
  BOOST_TEST((error_of([&] { lock.release(); }) == errc::invalid_argument));  // not held
  BOOST_TEST(lock.state()["dead_holders"] == 1);
}

BOOST_AUTO_TEST_CASE(the_manager_frees_a_dead_holders_lock_with_nobody_waiting) {
  auto lock = client->lock("watched/lock");
  kill_now(child_holding([&] { lock.acquire(); }));
  BOOST_TEST(eventually([&] { return !lock.locked(); }, 2s));  // the manager's watcher, every 200 ms
  BOOST_TEST(lock.state()["owner_died"] == true);
}

BOOST_AUTO_TEST_CASE(an_rlock_is_reentrant_for_its_thread_only) {
  auto rlock = client->rlock("re/lock");
  BOOST_TEST(rlock.acquire().acquired);
  BOOST_TEST(rlock.acquire().acquired);  // again, same thread
  BOOST_TEST(rlock.state()["depth"] == 2);
  pid_t other = spawn([&] {
    if (rlock.try_lock()) return 10;
    return error_of([&] { rlock.release(); }) == errc::invalid_argument ? 0 : 11;
  });
  BOOST_TEST(wait_exit(other).value() == 0);
  rlock.release();
  BOOST_TEST(rlock.locked());
  rlock.release();
  BOOST_TEST(!rlock.locked());
  pid_t holder = child_holding([&] {
    rlock.acquire();
    rlock.acquire();
  });
  kill_now(holder);
  AcquireResult got = rlock.acquire(2s);
  BOOST_TEST((got.acquired && got.previous_owner_died));
  rlock.release();
}

BOOST_AUTO_TEST_CASE(a_semaphore_counts_as_in_python_so_an_exited_consumer_keeps_its_permit) {
  auto sem = client->semaphore("count/sem", 0);
  pid_t producer = spawn([&] {
    Client(name).semaphore("count/sem", 0).release();
    return 0;
  });
  BOOST_TEST(wait_exit(producer, 5s).value_or(-1) == 0);
  pid_t consumer = spawn([&] { return Client(name).semaphore("count/sem", 0).acquire(5s) ? 0 : 1; });
  BOOST_TEST(wait_exit(consumer, 5s).value_or(-1) == 0);
  // One release, one acquire: nothing left, although the acquirer has exited.
  BOOST_TEST(!sem.acquire(300ms));
  BOOST_TEST(sem.value() == 0);
  BOOST_TEST(sem.state()["return_dead_permits"] == false);
}

BOOST_AUTO_TEST_CASE(a_dead_processes_semaphore_permits_come_back_when_asked_for) {
  auto sem = client->semaphore("pool/sem", 2, PermitRecovery::return_dead_holders);
  pid_t a = child_holding([&] { sem.acquire(); });
  pid_t b = child_holding([&] { sem.acquire(); });
  BOOST_TEST(sem.value() == 0);
  BOOST_TEST(!sem.acquire(50ms));
  kill_now(a);
  kill_now(b);
  BOOST_TEST(sem.acquire(2s));
  BOOST_TEST(sem.acquire(2s));
  BOOST_TEST(sem.state()["dead_holders"] == 2);
  sem.release();
  sem.release();
  BOOST_TEST(sem.value() == 2);
}

BOOST_AUTO_TEST_CASE(a_bounded_semaphore_refuses_to_pass_its_bound) {
  auto sem = client->bounded_semaphore("pool/bounded", 1);
  BOOST_TEST((error_of([&] { sem.release(); }) == errc::invalid_argument));
  BOOST_TEST(sem.acquire(0ms));
  BOOST_TEST(!sem.acquire(0ms));
  sem.release();
  BOOST_TEST(sem.value() == 1);
}

BOOST_AUTO_TEST_CASE(an_event_wakes_a_waiter_in_another_process) {
  auto ev = client->event("go/event");
  BOOST_TEST(!ev.wait(30ms));
  pid_t waiter = spawn([&] { return Client(name).event("go/event").wait(10s) ? 0 : 1; });
  ev.set();
  BOOST_TEST(wait_exit(waiter, 5s).value() == 0);
  BOOST_TEST(ev.is_set());
  ev.clear();
  BOOST_TEST(!ev.is_set());
}

BOOST_AUTO_TEST_CASE(an_event_set_and_cleared_at_once_still_wakes_the_waiter_in_another_process) {
  // Python's promise (gh-57711): a wait that a set began to end returns True even
  // when a clear came before the waiter looked.
  auto ev = client->event("go/blink");
  auto ready = client->create<std::int64_t>("go/ready", 0);
  pid_t waiter = spawn([&] {
    Client c(name);
    auto mine = c.event("go/blink");
    c.value<std::int64_t>("go/ready").set(1);
    return mine.wait(10s) ? 0 : 1;
  });
  BOOST_REQUIRE(eventually([&] { return ready.get() == 1 && process_sleeping(waiter); }, 5s));  // in its wait
  ev.set();
  ev.clear();
  BOOST_TEST(wait_exit(waiter, 5s).value_or(-100) == 0);
  BOOST_TEST(!ev.is_set());
  // Over the socket the state carries the count of sets that such a waiter compares.
  auto remote = new_client(Transport::socket).event("go/blink");
  const auto sets = remote.state().at("sets").get<std::uint64_t>();
  ev.set();
  ev.set();  // already set: no new set
  ev.clear();
  BOOST_TEST(remote.state().at("sets").get<std::uint64_t>() == sets + 1);
}

BOOST_AUTO_TEST_CASE(a_reset_sends_the_waiting_parties_out_broken_and_the_barrier_serves_again) {
  for (Transport t : {Transport::automatic, Transport::socket}) {
    const std::string b = t == Transport::socket ? "b/reset-net" : "b/reset";
    Client mine = new_client(t);
    auto barrier = mine.barrier(b, 3);
    std::vector<pid_t> waiting;
    for (int k = 0; k < 2; ++k) {
      waiting.push_back(spawn(
          [&] { return error_of([&] { Client(name).barrier(b, 3).wait(10s); }) == errc::broken_barrier ? 0 : 1; }));
    }
    BOOST_REQUIRE(eventually([&] { return barrier.n_waiting() == 2; }, 5s));
    barrier.reset();  // Python's reset: both leave with BrokenBarrierError ...
    for (pid_t p : waiting) BOOST_TEST(wait_exit(p, 5s).value_or(-100) == 0);
    BOOST_TEST(!barrier.broken());  // ... and it is usable again, not broken
    BOOST_TEST(barrier.n_waiting() == 0);
    auto seen = mine.create<std::int64_t>(b + "-seen", 0);
    std::vector<pid_t> parties;
    for (int k = 0; k < 2; ++k) {
      parties.push_back(spawn([&] {
        Client c(name);
        c.value<std::int64_t>(b + "-seen").add(std::int64_t{1} << c.barrier(b, 3).wait(10s));
        return 0;
      }));
    }
    seen.add(std::int64_t{1} << barrier.wait(10s));
    for (pid_t p : parties) BOOST_TEST(wait_exit(p, 5s).value_or(-100) == 0);
    BOOST_TEST(seen.get() == 7);  // indexes 0, 1, 2 once each
    barrier.reset();              // nobody waits: usable at once
    BOOST_TEST(!barrier.broken());
  }
}

BOOST_AUTO_TEST_CASE(a_barrier_of_four_processes_passes_a_thousand_times) {
  client->barrier("b/four", 4);
  auto sum = client->create<std::int64_t>("b/sum", 0);
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    children.push_back(spawn([&] {
      Client c(name);
      auto b = c.barrier("b/four", 4);
      auto s = c.value<std::int64_t>("b/sum");
      for (int round = 0; round < 1000; ++round) s.add(b.wait(30s));
      return 0;
    }));
  }
  for (pid_t c : children) BOOST_TEST(wait_exit(c, 120s).value() == 0);
  BOOST_TEST(sum.get() == 1000 * (0 + 1 + 2 + 3));  // indexes 0..3, each once per round
  BOOST_TEST(client->barrier("b/four", 4).state()["generation"] == 1000);
}

BOOST_AUTO_TEST_CASE(a_party_killed_at_a_barrier_breaks_it_for_the_others) {
  auto barrier = client->barrier("b/three", 3);
  pid_t victim = child_holding([&] {
    std::thread([&] { barrier.wait(); }).detach();  // arrives, then waits
    while (barrier.n_waiting() < 1) std::this_thread::yield();
  });
  pid_t survivor = spawn([&] {
    Client c(name);
    return error_of([&] { c.barrier("b/three", 3).wait(10s); }) == errc::broken_barrier ? 0 : 1;
  });
  BOOST_REQUIRE(eventually([&] { return barrier.n_waiting() == 2; }, 5s));
  kill_now(victim);
  BOOST_TEST(wait_exit(survivor, 5s).value() == 0);  // broken, not hung
  BOOST_TEST(barrier.broken());
  BOOST_TEST((error_of([&] { barrier.wait(1s); }) == errc::broken_barrier));
  barrier.reset();
  BOOST_TEST(!barrier.broken());
  BOOST_TEST(barrier.n_waiting() == 0);
}

BOOST_AUTO_TEST_CASE(a_barrier_wait_that_times_out_breaks_the_barrier) {
  auto barrier = client->barrier("b/slow", 2);
  milliseconds took{};
  BOOST_TEST((error_of([&] { took = time_of([&] { barrier.wait(60ms); }); }) == errc::broken_barrier));
  BOOST_TEST(barrier.broken());
  BOOST_TEST(barrier.n_waiting() == 0);
}

BOOST_AUTO_TEST_CASE(the_socket_transport_offers_the_same_sync_api) {
  Client remote = new_client(Transport::socket);
  BOOST_REQUIRE(!remote.is_local());
  auto lock = remote.lock("net/lock");
  kill_now(child_holding([&] { client->lock("net/lock").acquire(); }));
  AcquireResult got = lock.acquire(2s);
  BOOST_TEST((got.acquired && got.previous_owner_died));
  lock.release();
  auto sem = remote.bounded_semaphore("net/sem", 1);
  BOOST_TEST(sem.acquire(0ms));
  BOOST_TEST(!sem.acquire(20ms));
  sem.release();
  auto ev = remote.event("net/event");
  pid_t setter = spawn([&] {
    Client(name).event("net/event").set();
    return 0;
  });
  BOOST_TEST(ev.wait(5s));
  BOOST_TEST(wait_exit(setter).value() == 0);
  auto barrier = remote.barrier("net/barrier", 2);
  pid_t partner = spawn([&] { return Client(name).barrier("net/barrier", 2).wait(10s) >= 0 ? 0 : 1; });
  BOOST_TEST(barrier.wait(10s) >= 0);
  BOOST_TEST(wait_exit(partner).value() == 0);
}

BOOST_AUTO_TEST_CASE(sync_variables_show_in_the_dump_and_refuse_plain_writes) {
  client->lock("d/lock").acquire();
  client->semaphore("d/sem", 3);
  json dump = client->dump("d/");
  BOOST_TEST(dump["variables"][0]["type"] == "lock");
  BOOST_TEST(dump["variables"][0]["value"]["holder_pid"] == getpid());
  BOOST_TEST(dump["variables"][1]["value"]["value"] == 3);
  BOOST_TEST((error_of([&] {
                client->request({{"op", "set"}, {"name", "d/lock"}, {"value", 1}});
              }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] { client->barrier("d/barrier", 0); }) == errc::invalid_argument));
  BOOST_TEST((error_of([&] { client->event("d/sem"); }) == errc::type_mismatch));
}

BOOST_AUTO_TEST_SUITE_END()
