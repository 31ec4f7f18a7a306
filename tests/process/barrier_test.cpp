// SPDX-License-Identifier: MIT
// A barrier's action (Python's Barrier(action=)) across real processes, in the
// segment and over the socket: the last party runs it exactly once per round,
// before anyone passes; an action that throws breaks the barrier for the others
// and reaches its own caller; a party SIGKILLed inside its action breaks it too.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <stdexcept>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;

namespace {
constexpr Transport both[] = {Transport::automatic, Transport::socket};
std::string prefix_of(Transport t) { return t == Transport::socket ? "net/" : "shm/"; }
}  // namespace

BOOST_FIXTURE_TEST_SUITE(barriers, manager_fixture)

BOOST_AUTO_TEST_CASE(the_last_party_runs_the_action_once_a_round_before_anyone_passes) {
  constexpr int rounds = 200;
  for (Transport t : both) {
    const std::string p = prefix_of(t);
    Client c = new_client(t);
    c.barrier(p + "b", 3);
    auto actions = c.create<std::int64_t>(p + "actions", 0);
    auto passed = c.create<std::int64_t>(p + "passed", 0);
    auto early = c.create<std::int64_t>(p + "early", 0);  // actions that saw a party of their round through
    std::vector<pid_t> parties;
    for (int k = 0; k < 3; ++k) {
      parties.push_back(spawn([&] {
        Client mine = new_client(t);
        auto b = mine.barrier(p + "b", 3);
        auto acts = mine.value<std::int64_t>(p + "actions");
        auto through = mine.value<std::int64_t>(p + "passed");
        auto wrong = mine.value<std::int64_t>(p + "early");
        auto action = [&] {
          const std::int64_t round = acts.add(1) - 1;  // add returns the new value
          if (through.get() != 3 * round) wrong.add(1);
        };
        for (int r = 0; r < rounds; ++r) {
          b.wait(30s, action);
          through.add(1);
        }
        return 0;
      }));
    }
    for (pid_t pid : parties) BOOST_TEST(wait_exit(pid, 120s).value_or(-100) == 0);
    BOOST_TEST(actions.get() == rounds);  // once a round, not once a party
    BOOST_TEST(passed.get() == 3 * rounds);
    BOOST_TEST(early.get() == 0);
    auto state = c.barrier(p + "b", 3).state();
    BOOST_TEST(state.at("generation").get<int>() == rounds);
    BOOST_TEST(!state.at("tripping").get<bool>());
  }
}

BOOST_AUTO_TEST_CASE(an_action_that_throws_breaks_the_barrier_and_reaches_its_caller) {
  for (Transport t : both) {
    const std::string p = prefix_of(t);
    Client c = new_client(t);
    auto b = c.barrier(p + "throws", 2);
    pid_t other = spawn_failing_with(errc::broken_barrier, [&] { new_client(t).barrier(p + "throws", 2).wait(10s); });
    BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 1; }, 5s));
    bool caught = false;
    try {
      b.wait(10s, [] { throw std::runtime_error("the action failed"); });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "the action failed";
    }
    BOOST_TEST(caught);
    BOOST_TEST(wait_exit(other, 5s).value_or(-100) == 0);
    BOOST_TEST(b.broken());
    BOOST_TEST(b.n_waiting() == 0);  // the thrower left it too
    b.reset();
    pid_t again = spawn([&] { return new_client(t).barrier(p + "throws", 2).wait(10s) >= 0 ? 0 : 1; });
    int ran = 0;
    b.wait(10s, [&] { ++ran; });
    BOOST_TEST(wait_exit(again, 5s).value_or(-100) == 0);
    BOOST_TEST(ran <= 1);  // whichever party came last ran its own action
  }
}

BOOST_AUTO_TEST_CASE(a_party_killed_inside_its_action_breaks_the_barrier_for_the_others) {
  for (Transport t : both) {
    const std::string p = prefix_of(t);
    Client c = new_client(t);
    auto b = c.barrier(p + "dies", 2);
    auto in_action = c.create<std::int64_t>(p + "in-action", 0);
    pid_t waiter = spawn_failing_with(errc::broken_barrier, [&] { new_client(t).barrier(p + "dies", 2).wait(20s); });
    BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 1; }, 5s));
    pid_t last = spawn([&] {
      Client mine = new_client(t);
      auto flag = mine.value<std::int64_t>(p + "in-action");
      mine.barrier(p + "dies", 2).wait(20s, [&] {
        flag.set(1);
        pause();  // killed here
      });
      return 2;
    });
    BOOST_REQUIRE(eventually([&] { return in_action.get() == 1; }, 5s));
    BOOST_TEST(b.state().at("tripping").get<bool>());
    kill_now(last);
    BOOST_TEST(wait_exit(waiter, 10s).value_or(-100) == 0);  // broken, not hung
    BOOST_TEST(b.broken());
  }
}

BOOST_AUTO_TEST_SUITE_END()
