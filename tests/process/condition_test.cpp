// SPDX-License-Identifier: MIT
// Condition across real processes: a producer/consumer handshake with exact counts,
// notify(1) waking exactly one waiter, timeouts, and a holder or a waiter SIGKILLed.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <mutex>
#include <nlohmann/json.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {
// A child that waits on the condition (holding its lock) and exits 0 once notified.
pid_t waiting_child(const std::string& manager, const std::string& condition) {
  return spawn([&] {
    auto cv = Client(manager).condition(condition);
    std::lock_guard guard(cv);
    return cv.wait(20s) ? 0 : 1;
  });
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(conditions, manager_fixture)

BOOST_AUTO_TEST_CASE(three_consumers_take_exactly_what_one_producer_makes) {
  constexpr int items = 300;
  auto cond = client->condition("pc/cond");
  client->create<std::int64_t>("pc/ready", 0);
  client->create<std::int64_t>("pc/taken", 0);
  std::vector<pid_t> consumers;
  for (int c = 0; c < 3; ++c) {
    consumers.push_back(spawn([&] {
      Client mine(name);
      auto cv = mine.condition("pc/cond");
      auto ready = mine.value<std::int64_t>("pc/ready");
      auto taken = mine.value<std::int64_t>("pc/taken");
      while (true) {
        std::lock_guard guard(cv);
        if (!cv.wait_for([&] { return ready.get() != 0; }, 20s)) return 2;
        if (ready.get() < 0) return 0;  // the end: leave it for the others
        ready.set(ready.get() - 1);     // plain read-modify-write: the lock makes it exact
        taken.set(taken.get() + 1);
      }
    }));
  }
  for (int i = 0; i < items; ++i) {
    std::lock_guard guard(cond);
    auto ready = client->value<std::int64_t>("pc/ready");
    ready.set(ready.get() + 1);
    cond.notify();
  }
  BOOST_TEST(eventually([&] { return client->value<std::int64_t>("pc/taken").get() == items; }, 30s));
  {
    std::lock_guard guard(cond);
    client->value<std::int64_t>("pc/ready").set(-1);
    cond.notify_all();
  }
  for (pid_t c : consumers) BOOST_TEST(wait_exit(c, 30s).value() == 0);
  BOOST_TEST(client->value<std::int64_t>("pc/taken").get() == items);
  BOOST_TEST(cond.state()["waiting"] == 0);
}

BOOST_AUTO_TEST_CASE(notify_one_wakes_exactly_one_waiter) {
  auto cond = client->condition("one/cond");
  std::vector<pid_t> waiters;
  for (int w = 0; w < 2; ++w) {
    waiters.push_back(waiting_child(name, "one/cond"));
  }
  BOOST_TEST(eventually([&] { return cond.state()["waiting"] == 2; }, 5s));
  {
    std::lock_guard guard(cond);
    BOOST_TEST(cond.notify(1) == 1);
  }
  BOOST_TEST(eventually([&] { return cond.state()["waiting"] == 1; }, 5s));
  int exited = 0;
  for (pid_t w : waiters) exited += wait_exit(w, 200ms).has_value();
  BOOST_TEST(exited == 1);
  {
    std::lock_guard guard(cond);
    BOOST_TEST(cond.notify_all() == 1);
  }
  for (pid_t w : waiters) wait_exit(w, 5s);
  BOOST_TEST(cond.state()["waiting"] == 0);
}

BOOST_AUTO_TEST_CASE(notify_all_wakes_twenty_waiting_processes) {
  auto cond = client->condition("all/cond");
  std::vector<pid_t> waiters;
  for (int w = 0; w < 20; ++w) {
    waiters.push_back(waiting_child(name, "all/cond"));
  }
  BOOST_TEST(eventually([&] { return cond.state()["waiting"] == 20; }, 10s));
  {
    std::lock_guard guard(cond);
    BOOST_TEST(cond.notify_all() == 20);
  }
  for (pid_t w : waiters) BOOST_TEST(wait_exit(w, 10s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(a_wait_times_out_with_the_lock_back) {
  auto cond = client->condition("t/cond");
  BOOST_TEST((error_of([&] { cond.wait(10ms); }) == errc::invalid_argument));  // not held
  BOOST_TEST((error_of([&] { cond.notify(); }) == errc::invalid_argument));
  cond.acquire();
  cond.acquire();  // reentrant: depth 2
  milliseconds took = time_of([&] { BOOST_TEST(!cond.wait(50ms)); });
  BOOST_TEST((took >= 50ms && took < 1s));
  BOOST_TEST(cond.state()["depth"] == 2);  // taken back at its depth
  BOOST_TEST(!cond.wait_for([] { return false; }, 30ms));
  cond.release();
  cond.release();
  BOOST_TEST(!cond.locked());
}

BOOST_AUTO_TEST_CASE(a_sigkilled_holder_is_evicted_and_the_next_acquirer_is_told) {
  auto cond = client->condition("dead/cond");
  pid_t child = child_holding([&] { cond.acquire(); });
  BOOST_TEST(!cond.acquire(30ms).acquired);
  kill_now(child);
  AcquireResult got;
  BOOST_TEST((time_of([&] { got = cond.acquire(2s); }) < 200ms));
  BOOST_TEST(got.acquired);
  BOOST_TEST(got.previous_owner_died);
  cond.release();
}

BOOST_AUTO_TEST_CASE(a_waiter_that_takes_the_lock_back_from_a_dead_holder_is_told) {
  auto cond = client->condition("cw/cond");
  auto held_by = client->create<std::int64_t>("cw/held_by", 0);
  cond.acquire();
  pid_t holder = spawn([&] {  // takes the lock while we wait, then is killed holding it
    Client c(name);
    auto cv = c.condition("cw/cond");
    cv.acquire();
    c.value<std::int64_t>("cw/held_by").set(getpid());
    pause();
    return 0;
  });
  pid_t killer = spawn([&] {
    auto who = Client(name).value<std::int64_t>("cw/held_by");
    if (!eventually([&] { return who.get() != 0; }, 10s)) return 1;
    return ::kill(static_cast<pid_t>(who.get()), SIGKILL) == 0 ? 0 : 2;
  });
  BOOST_TEST(!cond.wait(200ms));  // times out, then takes the lock back once the holder is dead
  BOOST_TEST(cond.previous_owner_died());
  BOOST_TEST(cond.state()["holder_pid"] == getpid());
  cond.release();
  BOOST_TEST(wait_exit(killer, 5s).value_or(-1) == 0);
  BOOST_TEST(wait_exit(holder, 5s).has_value());
}

BOOST_AUTO_TEST_CASE(a_sigkilled_waiter_does_not_swallow_a_notify) {
  auto cond = client->condition("dw/cond");
  pid_t doomed = waiting_child(name, "dw/cond");
  BOOST_TEST(eventually([&] { return cond.state()["waiting"] == 1; }, 5s));
  pid_t survivor = waiting_child(name, "dw/cond");
  BOOST_TEST(eventually([&] { return cond.state()["waiting"] == 2; }, 5s));
  kill_now(doomed);  // the older waiter: notify(1) would go to it
  {
    std::lock_guard guard(cond);
    BOOST_TEST(cond.notify(1) == 1);
  }
  BOOST_TEST(wait_exit(survivor, 5s).value_or(-1) == 0);
  BOOST_TEST(cond.state()["dead_holders"] == 1);
}

BOOST_AUTO_TEST_CASE(the_socket_transport_waits_and_notifies) {
  Client remote = new_client(Transport::socket);
  auto far = remote.condition("net/cond");
  pid_t notifier = spawn([&] {
    auto cv = Client(name).condition("net/cond");
    if (!eventually([&] { return cv.state()["waiting"] == 1; }, 10s)) return 1;
    std::lock_guard guard(cv);
    return cv.notify() == 1 ? 0 : 2;
  });
  far.acquire();
  BOOST_TEST(far.wait(10s));
  BOOST_TEST(far.state()["holder_pid"] == getpid());
  far.release();
  BOOST_TEST(wait_exit(notifier).value() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
