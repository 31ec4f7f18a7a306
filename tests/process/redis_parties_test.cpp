// SPDX-License-Identifier: MIT
// The Redis backend's arrays, lists, barriers and conditions, against a real
// redis-server (redis_fixture), with real child processes: items by index as in
// Python, a barrier that lets its parties through together (and breaks when a
// waiting party is SIGKILLed and its lease lapses), a condition that wakes a waiter
// in another process.
#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;

BOOST_FIXTURE_TEST_SUITE(redis_parties, redis_fixture)

BOOST_AUTO_TEST_CASE(an_array_is_read_and_written_by_index_from_children) {
  Client c = new_client();
  Array<std::int64_t> a = c.array<std::int64_t>("a", 4);
  BOOST_TEST(a.size() == 4u);
  std::vector<pid_t> pids;
  for (int k = 0; k < 4; ++k) {
    pids.push_back(spawn([&, k] {
      Client mine = new_client();
      mine.array<std::int64_t>("a", 4).set(k, 10 * (k + 1));
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p).value_or(-1) == 0);
  BOOST_TEST((a.to_vector() == std::vector<std::int64_t>{10, 20, 30, 40}));
  BOOST_TEST(a.get(-1) == 40);
  BOOST_TEST((error_of([&] { a.get(4); }) == errc::out_of_range));
  BOOST_TEST((error_of([&] { a.get(-5); }) == errc::out_of_range));
  BOOST_TEST((error_of([&] { a.assign({1, 2}); }) == errc::invalid_argument));  // an array keeps its size
  a.assign({4, 3, 2, 1});
  BOOST_TEST(a.get(0) == 4);
}

BOOST_AUTO_TEST_CASE(a_list_appends_inserts_and_pops_as_python_does) {
  Client c = new_client();
  List<std::int64_t> l = c.list_of<std::int64_t>("l");
  BOOST_TEST(l.append(1) == 1u);
  BOOST_TEST(l.extend({2, 3}) == 3u);
  l.insert(0, 0);    // [0, 1, 2, 3]
  l.insert(99, 4);   // past the end appends: [0, 1, 2, 3, 4]
  l.insert(-1, 35);  // before the last: [0, 1, 2, 3, 35, 4]
  BOOST_TEST((l.to_vector() == std::vector<std::int64_t>{0, 1, 2, 3, 35, 4}));
  BOOST_TEST(l.pop() == 4);
  BOOST_TEST(l.pop(1) == 1);  // [0, 2, 3, 35]
  BOOST_TEST(l.pop(0) == 0);  // [2, 3, 35]
  BOOST_TEST((l.to_vector() == std::vector<std::int64_t>{2, 3, 35}));
  l.clear();
  BOOST_TEST((error_of([&] { l.pop(); }) == errc::out_of_range));
  // Appends from children: every item lands once.
  std::vector<pid_t> pids;
  for (int k = 0; k < 3; ++k) {
    pids.push_back(spawn([&, k] {
      List<std::int64_t> mine = new_client().list_of<std::int64_t>("l");
      for (int i = 0; i < 100; ++i) mine.append(k * 1000 + i);
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p).value_or(-1) == 0);
  const auto all = l.to_vector();
  BOOST_TEST(all.size() == 300u);
  BOOST_TEST(std::set<std::int64_t>(all.begin(), all.end()).size() == 300u);
}

// Past Lua's unpack() limit (~8000 values): nothing is lost in a replace, an insert
// or a pop in the middle.
BOOST_AUTO_TEST_CASE(a_list_of_twenty_thousand_items_keeps_every_item) {
  Client c = new_client();
  List<std::int64_t> l = c.list_of<std::int64_t>("big");
  std::vector<std::int64_t> items(20000);
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = static_cast<std::int64_t>(i);
  l.assign(items);
  BOOST_TEST(l.size() == 20000u);
  l.insert(10000, -1);
  BOOST_TEST(l.get(10000) == -1);
  BOOST_TEST(l.get(10001) == 10000);
  BOOST_TEST(l.pop(10000) == -1);
  BOOST_TEST(l.pop(5) == 5);
  items.erase(items.begin() + 5);
  BOOST_TEST((l.to_vector() == items));
  Array<std::int64_t> a = c.array<std::int64_t>("bigarray", 10000);
  BOOST_TEST(a.size() == 10000u);
  BOOST_TEST((error_of([&] { c.array<std::int64_t>("toolarge", 8'388'609); }) == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_barrier_lets_its_parties_through_together) {
  Client c = new_client();
  Barrier b = c.barrier("b", 3);
  auto seen = c.create<std::int64_t>("indexes", 0);  // a bit per index
  std::vector<pid_t> pids;
  for (int k = 0; k < 3; ++k) {
    pids.push_back(spawn([&] {
      Client mine = new_client();
      const std::int64_t index = mine.barrier("b", 3).wait(10s);
      mine.value<std::int64_t>("indexes").add(std::int64_t{1} << index);
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p).value_or(-1) == 0);
  BOOST_TEST(seen.get() == 7);  // indexes 0, 1 and 2, once each
  BOOST_TEST(b.n_waiting() == 0);
  BOOST_TEST(!b.broken());
}

BOOST_AUTO_TEST_CASE(a_reset_sends_the_waiting_parties_out_broken_and_the_barrier_serves_again) {
  Client c = new_client();
  Barrier b = c.barrier("rb", 3);
  std::vector<pid_t> waiting;
  for (int k = 0; k < 2; ++k) {
    waiting.push_back(spawn_failing_with(errc::broken_barrier, [&] { new_client().barrier("rb", 3).wait(10s); }));
  }
  BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 2; }, 5s));
  b.reset();
  for (pid_t p : waiting) BOOST_TEST(wait_exit(p, 5s).value_or(-100) == 0);
  BOOST_TEST(!b.broken());
  BOOST_TEST(!b.state().at("resetting").get<bool>());
  auto seen = c.create<std::int64_t>("rb-seen", 0);
  std::vector<pid_t> parties;
  for (int k = 0; k < 2; ++k) {
    parties.push_back(spawn([&] {
      Client mine = new_client();
      mine.value<std::int64_t>("rb-seen").add(std::int64_t{1} << mine.barrier("rb", 3).wait(10s));
      return 0;
    }));
  }
  seen.add(std::int64_t{1} << b.wait(10s));
  for (pid_t p : parties) BOOST_TEST(wait_exit(p, 5s).value_or(-100) == 0);
  BOOST_TEST(seen.get() == 7);
  // An event's state counts its sets, so a waiter that saw it clear sees a set+clear.
  Event ev = c.event("rb-ev");
  const auto sets = ev.state().at("sets").get<std::uint64_t>();
  ev.set();
  ev.set();
  ev.clear();
  BOOST_TEST(ev.state().at("sets").get<std::uint64_t>() == sets + 1);
}

BOOST_AUTO_TEST_CASE(the_last_party_runs_the_action_before_anyone_passes_and_a_throw_breaks_it) {
  constexpr int rounds = 30;
  Client c = new_client();
  c.barrier("ab", 3);
  auto actions = c.create<std::int64_t>("ab-actions", 0);
  auto passed = c.create<std::int64_t>("ab-passed", 0);
  auto early = c.create<std::int64_t>("ab-early", 0);
  std::vector<pid_t> parties;
  for (int k = 0; k < 3; ++k) {
    parties.push_back(spawn([&] {
      Client mine = new_client();
      auto b = mine.barrier("ab", 3);
      auto acts = mine.value<std::int64_t>("ab-actions");
      auto through = mine.value<std::int64_t>("ab-passed");
      auto wrong = mine.value<std::int64_t>("ab-early");
      for (int r = 0; r < rounds; ++r) {
        b.wait(30s, [&] {
          if (through.get() != 3 * (acts.add(1) - 1)) wrong.add(1);
        });
        through.add(1);
      }
      return 0;
    }));
  }
  for (pid_t pid : parties) BOOST_TEST(wait_exit(pid, 120s).value_or(-100) == 0);
  BOOST_TEST(actions.get() == rounds);
  BOOST_TEST(passed.get() == 3 * rounds);
  BOOST_TEST(early.get() == 0);
  // An action that throws: the others get broken_barrier, the caller its exception.
  Barrier b = c.barrier("ab", 3);
  std::vector<pid_t> others;
  for (int k = 0; k < 2; ++k) {
    others.push_back(spawn_failing_with(errc::broken_barrier, [&] { new_client().barrier("ab", 3).wait(10s); }));
  }
  BOOST_REQUIRE(eventually([&] { return b.n_waiting() == 2; }, 5s));
  BOOST_CHECK_THROW(b.wait(10s, [] { throw std::logic_error("no"); }), std::logic_error);
  for (pid_t pid : others) BOOST_TEST(wait_exit(pid, 5s).value_or(-100) == 0);
  BOOST_TEST(b.broken());
}

BOOST_AUTO_TEST_CASE(a_party_sigkilled_while_waiting_breaks_the_barrier_after_its_lease) {
  const std::string leased = url("lease_ms=500");
  Client c = rb_connect(leased);
  Barrier b = c.barrier("kb", 3);  // the child, the parent, and a third that never comes
  pid_t waiter = rb_child_holding([&] {
    static std::optional<Client> keep;
    keep.emplace(ClientOptions{.manager_name = leased});
    // Arrive and wait; the holder is killed while it waits.
    std::thread([] {
      try {
        keep->barrier("kb", 3).wait(60s);
      } catch (...) {
      }
    }).detach();
    BOOST_REQUIRE(eventually([&] { return keep->barrier("kb", 3).n_waiting() == 1; }, 5s));
  });
  // Its place shows as the local backend shows it, and the dump tool reads it.
  const auto holders = b.state().at("holders");
  BOOST_TEST((holders.size() == 1u && holders[0].at("pid").get<pid_t>() == waiter));
  auto dumped = run_command(std::string(MPSTATE_DUMP_PATH) + " '" + leased + "' 2>&1");
  BOOST_TEST(dumped.exit_code == 0, dumped.output);
  BOOST_TEST(dumped.output.find(std::to_string(waiter)) != std::string::npos, dumped.output);
  kill_now(waiter);
  // Its place lapses; the next party to arrive finds the barrier broken.
  const auto start = steady_clock::now();
  BOOST_TEST((error_of([&] { b.wait(5s); }) == errc::broken_barrier));
  BOOST_TEST((steady_clock::now() - start < 4s));
  BOOST_TEST(b.broken());
  b.reset();
  BOOST_TEST(!b.broken());
}

BOOST_AUTO_TEST_CASE(a_condition_wakes_a_waiter_in_another_process) {
  Client c = new_client();
  Condition cv = c.condition("cv");
  auto ready = c.create<std::int64_t>("ready", 0);
  BOOST_TEST((error_of([&] { cv.notify(); }) == errc::invalid_argument));  // without its lock
  pid_t child = spawn([&] {
    Client mine = new_client();
    Condition theirs = mine.condition("cv");
    auto flag = mine.value<std::int64_t>("ready");
    // Wait until the parent waits, then set the flag and notify under the lock.
    if (!eventually([&] { return theirs.state().at("waiting").get<int>() == 1; }, 10s)) return 2;
    LockGuard guard(theirs);
    flag.set(1);
    return theirs.notify() == 1 ? 0 : 3;
  });
  cv.acquire();
  const bool woke = cv.wait_for([&] { return ready.get() == 1; }, 10s);
  cv.release();
  BOOST_TEST(woke);
  BOOST_TEST(wait_exit(child).value_or(-1) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
