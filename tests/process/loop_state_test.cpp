// SPDX-License-Identifier: MIT
// The loop-state handle across real processes: a requested stop, a killed owner.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;

namespace {
// A child's event loop: runs until asked to stop (or forever with `ignore_stop`).
int run_loop(Client& client, const std::string& name, bool ignore_stop = false) {
  LoopState loop = client.loop(name);
  loop.mark_starting();
  loop.mark_running();
  while (ignore_stop || !loop.stop_requested()) {
    loop.heartbeat();
    std::this_thread::sleep_for(1ms);  // the loop's own work
  }
  loop.mark_stopped();
  return 0;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(loop_state, manager_fixture)

BOOST_AUTO_TEST_CASE(a_requested_stop_ends_the_child_loop_in_state_stopped) {
  LoopState loop = client->loop("sched/loop");
  BOOST_TEST((loop.state() == LoopPhase::idle));
  pid_t child = spawn([&] {
    Client own(name);
    return run_loop(own, "sched/loop");
  });
  BOOST_REQUIRE((loop.wait_for(LoopPhase::running, 5s) == LoopPhase::running));
  LoopInfo info = loop.info();
  BOOST_TEST(info.pid == child);
  BOOST_REQUIRE(eventually([&] { return loop.info().iterations > 0; }, 5s));  // it is looping
  BOOST_TEST((loop.request_stop() == LoopPhase::stopping));
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, 5s) == LoopPhase::stopped));
  BOOST_TEST(wait_exit(child).value() == 0);
  BOOST_TEST(loop.info().iterations > 0u);
  BOOST_TEST((loop.request_stop() == LoopPhase::stopped));  // nothing to stop any more
}

BOOST_AUTO_TEST_CASE(a_child_killed_with_sigkill_turns_failed_within_2s_for_a_waiting_parent) {
  LoopState loop = client->loop("sched/killed");
  pid_t child = spawn([&] {
    Client own(name);
    return run_loop(own, "sched/killed", /*ignore_stop=*/true);
  });
  BOOST_REQUIRE((loop.wait_for(LoopPhase::running, 5s) == LoopPhase::running));
  kill(child, SIGKILL);  // not reaped yet: a zombie must count as dead
  auto start = std::chrono::steady_clock::now();
  LoopPhase seen = loop.wait_for(LoopPhase::stopped, 5s);
  auto took = std::chrono::steady_clock::now() - start;
  BOOST_TEST((seen == LoopPhase::failed));
  BOOST_TEST((took < 2s), "took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  BOOST_TEST(loop.info().reason == "owner process " + std::to_string(child) + " died");
  BOOST_TEST(wait_exit(child).value() == -SIGKILL);
}

BOOST_AUTO_TEST_CASE(the_manager_marks_a_dead_owner_failed_with_nobody_waiting) {
  LoopState loop = client->loop("sched/unwatched");
  pid_t child = spawn([&] {
    Client own(name);
    return run_loop(own, "sched/unwatched", true);
  });
  BOOST_REQUIRE((loop.wait_for(LoopPhase::running, 5s) == LoopPhase::running));
  kill(child, SIGKILL);
  BOOST_TEST(wait_exit(child).value() == -SIGKILL);
  // state() reads only; the manager's watcher must do the marking.
  BOOST_TEST(eventually([&] { return loop.state() == LoopPhase::failed; }, 2s));
}

BOOST_AUTO_TEST_CASE(a_second_process_cannot_take_a_loop_a_live_owner_runs) {
  LoopState loop = client->loop("sched/owned");
  pid_t child = spawn([&] {
    Client own(name);
    return run_loop(own, "sched/owned");
  });
  BOOST_REQUIRE((loop.wait_for(LoopPhase::running, 5s) == LoopPhase::running));
  BOOST_TEST((error_of([&] { loop.mark_starting(); }) == errc::invalid_argument));
  BOOST_TEST((error_of([&] { loop.heartbeat(); }) == errc::invalid_argument));
  loop.request_stop();
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, 5s) == LoopPhase::stopped));
  BOOST_TEST(wait_exit(child).value() == 0);
  BOOST_CHECK_NO_THROW(loop.mark_starting());  // a stopped loop may be run again
}

BOOST_AUTO_TEST_CASE(a_stop_requested_while_starting_is_kept_when_the_owner_marks_running) {
  LoopState loop = client->loop("sched/early");
  loop.mark_starting();
  BOOST_TEST((loop.request_stop() == LoopPhase::stopping));
  loop.mark_running();
  BOOST_TEST(loop.stop_requested());
}

BOOST_AUTO_TEST_CASE(a_wait_for_a_state_that_never_comes_times_out) {
  LoopState loop = client->loop("sched/never");
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST((loop.wait_for(LoopPhase::running, 150ms) == LoopPhase::idle));
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 150ms));
}

BOOST_AUTO_TEST_CASE(the_loop_handle_works_over_the_socket_too) {
  Client remote = new_client(Transport::socket);
  LoopState loop = remote.loop("sched/remote");
  pid_t child = spawn([&] {
    Client own(ClientOptions{.manager_name = name, .transport = Transport::socket});
    return run_loop(own, "sched/remote");
  });
  BOOST_REQUIRE((loop.wait_for(LoopPhase::running, 5s) == LoopPhase::running));
  BOOST_TEST(loop.info().pid == child);
  loop.request_stop();
  BOOST_TEST((loop.wait_for(LoopPhase::stopped, 5s) == LoopPhase::stopped));
  BOOST_TEST(wait_exit(child).value() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
