// SPDX-License-Identifier: MIT
// The side that loses its manager is told: a proxy whose manager ended (and removed
// its segment) raises manager_unavailable at its next op, sleepers are woken to be
// told, a manager started again under the name is a new incarnation that old proxies
// never write into, and an embedded manager whose starter was SIGKILLed serves on
// while other processes use it.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/segment.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;

BOOST_FIXTURE_TEST_SUITE(incarnations, manager_fixture)

BOOST_AUTO_TEST_CASE(every_proxy_of_an_ended_manager_raises_manager_unavailable) {
  auto v = client->value_or_create<std::int64_t>("gone/n", 1);
  auto text = client->value_or_create<std::string>("gone/s", "a");
  auto lock = client->lock("gone/lock");
  auto q = client->queue<std::int64_t>("gone/q");
  auto loop = client->loop("gone/loop");
  BOOST_TEST(v.add(1) == 2);
  manager->stop();  // a clean end: the segment is removed
  BOOST_TEST(client->manager_ended());
  BOOST_TEST((error_of([&] { v.add(5); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { v.get(); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { v.set(3); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { text.set("b"); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { lock.acquire(); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { q.put(1); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { loop.mark_starting(); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { client->value<std::int64_t>("gone/n"); }) == errc::manager_unavailable));
  BOOST_TEST((error_of([&] { client->list(); }) == errc::manager_unavailable));
}

BOOST_AUTO_TEST_CASE(sleepers_are_woken_to_be_told_when_the_manager_ends) {
  auto v = client->value_or_create<std::int64_t>("sleep/n", 0);
  auto lock = client->lock("sleep/lock");
  lock.acquire();
  // A child blocked in acquire() and a thread blocked in wait_for_change() (whether
  // they are asleep yet when the manager ends or not, they must be told).
  int bound[2];
  BOOST_REQUIRE(::pipe(bound) == 0);
  pid_t child = spawn([&] {
    Client c(name);
    auto l = c.lock("sleep/lock");
    [[maybe_unused]] auto n = ::write(bound[1], "x", 1);
    return error_of([&] { l.acquire(60s); }) == errc::manager_unavailable ? 0 : 1;
  });
  char byte;
  BOOST_REQUIRE(::read(bound[0], &byte, 1) == 1);
  errc waited = errc::ok;
  std::thread waiter([&] { waited = error_of([&] { v.wait_for_change(v.version(), 60s); }); });
  const auto took = time_of([&] {
    manager->stop();
    waiter.join();
    BOOST_TEST(wait_exit(child, 10s).value() == 0);
  });
  BOOST_TEST((waited == errc::manager_unavailable));
  BOOST_TEST((took < 5s), took.count() << " ms");
}

BOOST_AUTO_TEST_CASE(a_manager_started_again_under_the_name_is_a_new_incarnation) {
  auto old_n = client->value_or_create<std::int64_t>("inc/n", 1);
  const std::string before = client->request({{"op", "hello"}})["incarnation"];
  const std::uint64_t old_fence = [&] {
    auto l = client->lock("inc/lock");
    const std::uint64_t f = l.acquire().fence;
    l.release();
    return f;
  }();
  manager->stop();
  restart_manager();  // a fresh segment: the old one was removed
  Client fresh(name);
  const std::string after = fresh.request({{"op", "hello"}})["incarnation"];
  BOOST_TEST(before.size() == 16u);
  BOOST_TEST(before != after);
  auto n = fresh.value_or_create<std::int64_t>("inc/n", 1);
  n.add(1);
  // The old proxy never writes into the orphan: the dump and the old process agree.
  BOOST_TEST((error_of([&] { old_n.add(1); }) == errc::manager_unavailable));
  BOOST_TEST(n.get() == 2);
  // Epochs never go backwards across incarnations.
  auto lock = fresh.lock("inc/lock");
  BOOST_TEST(lock.acquire().fence > old_fence);
  lock.release();
}

BOOST_AUTO_TEST_CASE(a_socket_client_is_told_once_that_its_manager_came_back_new) {
  Client remote = new_client(Transport::socket);
  auto v = remote.value_or_create<std::int64_t>("sock/n", 5);
  BOOST_TEST(v.add(1) == 6);
  manager->stop();
  restart_manager();
  // The requests after the restart learn it (the first may meet the old connection
  // broken first): the variables it knew are gone. Then the new manager serves it
  // (a plain write recreates, as set does).
  std::string told;
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      v.set(1);
      break;
    } catch (const error& e) {
      BOOST_TEST((e.code() == errc::manager_unavailable));
      told += e.message() + "\n";
    }
  }
  BOOST_TEST(told.find("came back with a new segment") != std::string::npos, told);
  BOOST_TEST(v.get() == 1);
}

BOOST_AUTO_TEST_CASE(a_crashed_manager_is_the_same_incarnation_and_nothing_is_lost) {
  auto v = client->value_or_create<std::int64_t>("crash/n", 1);
  const std::string before = client->request({{"op", "hello"}})["incarnation"];
  kill_manager();
  BOOST_TEST(v.add(1) == 2);  // no manager: the segment lives on, the proxy works
  restart_manager();          // adopts it
  BOOST_TEST(v.add(1) == 3);
  BOOST_TEST(Client(name).request({{"op", "hello"}})["incarnation"] == before);
}

BOOST_AUTO_TEST_SUITE_END()

// An embedded manager is started by one process; others (a second web worker, the
// starter's children) use it. SIGKILLing the starter must not take the state away.
BOOST_FIXTURE_TEST_SUITE(embedded_managers, runtime_dir_fixture)

BOOST_AUTO_TEST_CASE(an_embedded_manager_outlives_its_killed_starter_while_others_use_it) {
  const std::string name = unique_name("emb");
  int to_test[2];
  BOOST_REQUIRE(::pipe(to_test) == 0);
  pid_t starter = spawn([&] {
    ManagerOptions o;
    o.name = name;
    o.size = 4 << 20;
    o.executable = MPSTATE_MANAGER_PATH;
    Manager m = Manager::start(o);
    const pid_t manager_pid = m.pid();
    [[maybe_unused]] auto n = ::write(to_test[1], &manager_pid, sizeof manager_pid);
    ::pause();
    return 0;
  });
  pid_t manager_pid = 0;
  BOOST_REQUIRE(::read(to_test[0], &manager_pid, sizeof manager_pid) == sizeof manager_pid);
  const core::process_identity manager{manager_pid, core::process_start_time(manager_pid)};
  {
    Client worker(name);
    auto n = worker.value_or_create<std::int64_t>("emb/n", 0);
    n.add(1);
    kill_now(starter);
    // The manager notices, and serves on: its socket answers, writes land.
    BOOST_TEST(eventually([&] { return worker.request({{"op", "stat"}})["starter_gone"] == true; }, 5s));
    for (int i = 0; i < 10; ++i) n.add(1);
    BOOST_TEST(core::is_alive(manager));
    Client second(name);
    BOOST_TEST(second.value<std::int64_t>("emb/n").get() == 11);
    // And it still watches: a loop whose owner is SIGKILLed turns failed.
    auto loop = worker.loop("emb/loop");
    kill_now(child_holding([&] {
      Client c(name);
      auto l = c.loop("emb/loop");
      l.mark_starting();
      l.mark_running();
    }));
    BOOST_TEST((loop.wait_for(LoopPhase::stopped, 3s) == LoopPhase::failed));
  }
  // Nobody uses it any more: it exits, and removes the segment.
  BOOST_TEST(eventually([&] { return !core::is_alive(manager); }, 5s));
  BOOST_TEST((error_of([&] { core::segment::open(core::segment_name(name)); }) == errc::not_found));
}

BOOST_AUTO_TEST_CASE(an_embedded_manager_whose_starter_dies_alone_exits) {
  const std::string name = unique_name("emb");
  int to_test[2];
  BOOST_REQUIRE(::pipe(to_test) == 0);
  pid_t starter = spawn([&] {
    ManagerOptions o;
    o.name = name;
    o.executable = MPSTATE_MANAGER_PATH;
    Manager m = Manager::start(o);
    const pid_t manager_pid = m.pid();
    [[maybe_unused]] auto n = ::write(to_test[1], &manager_pid, sizeof manager_pid);
    ::pause();
    return 0;
  });
  pid_t manager_pid = 0;
  BOOST_REQUIRE(::read(to_test[0], &manager_pid, sizeof manager_pid) == sizeof manager_pid);
  const core::process_identity manager{manager_pid, core::process_start_time(manager_pid)};
  kill_now(starter);
  BOOST_TEST(eventually([&] { return !core::is_alive(manager); }, 5s));
}

BOOST_AUTO_TEST_SUITE_END()
