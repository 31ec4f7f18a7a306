// SPDX-License-Identifier: MIT
// Queue and JoinableQueue across real processes: every item delivered exactly once
// under contention, timeouts that time out, blocked waiters woken by the kernel, and
// a waiter or a producer SIGKILLed mid-way.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(queues, manager_fixture)

BOOST_AUTO_TEST_CASE(a_hundred_thousand_items_drained_by_three_consumers_arrive_exactly_once) {
  constexpr std::int64_t items = 100'000;
  constexpr int consumers = 3;
  auto q = client->queue<std::int64_t>("work/q", 1000);
  const std::string dir = "/tmp/" + name + "-items";
  BOOST_REQUIRE(run_command("mkdir -p " + dir).exit_code == 0);
  std::vector<pid_t> children;
  for (int c = 0; c < consumers; ++c) {
    children.push_back(spawn([&, c] {
      auto mine = Client(name).queue<std::int64_t>("work/q", 1000);
      std::ofstream out(dir + "/" + std::to_string(c), std::ios::binary);
      while (true) {
        std::optional<std::int64_t> item = mine.get(30s);
        if (!item) return 2;
        if (*item < 0) return 0;  // one end marker each
        out.write(reinterpret_cast<const char*>(&*item), sizeof *item);
      }
    }));
  }
  pid_t producer = spawn([&] {
    auto mine = Client(name).queue<std::int64_t>("work/q", 1000);
    for (std::int64_t i = 0; i < items; ++i) {
      if (!mine.put(i, 30s)) return 2;
    }
    for (int c = 0; c < consumers; ++c) mine.put(-1);
    return 0;
  });
  BOOST_TEST(wait_exit(producer, 120s).value() == 0);
  for (pid_t c : children) BOOST_TEST(wait_exit(c, 120s).value() == 0);

  std::vector<std::int64_t> got;
  for (int c = 0; c < consumers; ++c) {
    std::ifstream in(dir + "/" + std::to_string(c), std::ios::binary);
    std::vector<std::int64_t> part;
    std::int64_t v;
    while (in.read(reinterpret_cast<char*>(&v), sizeof v)) part.push_back(v);
    BOOST_TEST(std::is_sorted(part.begin(), part.end()));  // FIFO as each consumer sees it
    got.insert(got.end(), part.begin(), part.end());
  }
  run_command("rm -rf " + dir);
  std::sort(got.begin(), got.end());
  BOOST_REQUIRE(got.size() == static_cast<std::size_t>(items));
  for (std::int64_t i = 0; i < items; ++i) {
    if (got[static_cast<std::size_t>(i)] != i) BOOST_FAIL("item " << i << " missing or repeated");
  }
  json s = q.state();
  BOOST_TEST(s["puts"] == items + consumers);
  BOOST_TEST(s["gets"] == items + consumers);
  BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(timeouts_time_out_and_nowait_calls_never_block) {
  auto q = client->queue<std::string>("t/q", 2, 16);
  BOOST_TEST(!q.get_nowait().has_value());
  milliseconds took = time_of([&] { BOOST_TEST(!q.get(50ms).has_value()); });
  BOOST_TEST((took >= 50ms && took < 1s));
  BOOST_TEST(q.put("a"));
  BOOST_TEST(q.put_nowait("b"));
  BOOST_TEST(q.full());
  BOOST_TEST(!q.put_nowait("c"));
  took = time_of([&] { BOOST_TEST(!q.put("c", 50ms)); });
  BOOST_TEST((took >= 50ms && took < 1s));
  BOOST_TEST(q.get().value() == "a");
  BOOST_TEST(q.get().value() == "b");
  BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(an_item_over_its_size_grows_the_queue_while_others_stay_bound) {
  auto q = client->queue<std::string>("grow/q", 8, 16);
  q.put("a");
  q.put("b");
  pid_t consumer = spawn([&] {
    auto mine = Client(name).queue<std::string>("grow/q", 8, 16);  // bound before the move
    if (!eventually([&] { return mine.size() == 3; }, 10s)) return 1;
    return mine.get(1s) == "a" && mine.get(1s) == "b" && mine.get(1s) == std::string(100, 'x') ? 0 : 2;
  });
  q.put(std::string(100, 'x'));  // over item_size 16: the manager grows it, items kept in order
  BOOST_TEST(q.state()["item_size"].get<std::uint64_t>() >= 100u);
  BOOST_TEST(wait_exit(consumer, 20s).value_or(-1) == 0);
  Client remote = new_client(Transport::socket);
  remote.queue<std::string>("grow/q", 8).put(std::string(1000, 'y'));  // the socket path grows in the manager
  BOOST_TEST(q.get(1s).value_or("").size() == 1000u);
  BOOST_TEST((error_of([&] { q.put(std::string(9u << 20, 'z')); }) == errc::value_too_large));  // 8 x 9M > 64M
}

BOOST_AUTO_TEST_CASE(an_unbounded_queue_grows_and_keeps_every_item_in_order) {
  constexpr std::int64_t items = 10'000;
  auto q = client->queue<std::int64_t>("u/q");  // maxsize 0: unbounded, as Python's Queue()
  pid_t consumer = spawn([&] {
    auto mine = Client(name).queue<std::int64_t>("u/q");  // bound while the ring has 64 slots
    if (!eventually([&] { return mine.size() == static_cast<std::uint64_t>(items); }, 30s)) return 2;
    for (std::int64_t i = 0; i < items; ++i) {
      if (mine.get(30s) != i) return 1;
    }
    return 0;
  });
  pid_t producer = spawn([&] {
    auto mine = Client(name).queue<std::int64_t>("u/q");
    for (std::int64_t i = 0; i < items; ++i) {
      if (!mine.put_nowait(i)) return 1;  // never full: the ring grows instead
    }
    return 0;
  });
  BOOST_TEST(wait_exit(producer, 60s).value_or(-1) == 0);
  BOOST_TEST(wait_exit(consumer, 60s).value_or(-1) == 0);
  BOOST_TEST(q.maxsize() == 0u);
  BOOST_TEST(q.state()["slots"].get<std::uint64_t>() >= static_cast<std::uint64_t>(items));
  BOOST_TEST(!q.full());
  BOOST_TEST(q.state()["puts"] == items);
  auto table = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " u/");
  BOOST_TEST(table.output.find("0 (unbounded) int64 items") != std::string::npos, table.output);
}

BOOST_AUTO_TEST_CASE(a_blocked_get_sleeps_until_another_process_puts) {
  auto q = client->queue<nlohmann::json>("wake/q", 4);
  pid_t consumer = spawn([&] {
    auto item = Client(name).queue<nlohmann::json>("wake/q", 4).get(10s);
    return item && (*item)["job"] == 7 ? 0 : 1;
  });
  BOOST_TEST(!wait_exit(consumer, 100ms).has_value());  // blocked in get
  q.put({{"job", 7}});
  BOOST_TEST(wait_exit(consumer, 10s).value() == 0);
}

BOOST_AUTO_TEST_CASE(join_waits_until_every_item_is_marked_done) {
  auto q = client->joinable_queue<std::int64_t>("j/q", 100);
  for (std::int64_t i = 0; i < 50; ++i) q.put(i);
  BOOST_TEST(!q.join(50ms));  // a timeout that times out: 50 unfinished
  std::vector<pid_t> workers;
  for (int w = 0; w < 2; ++w) {
    workers.push_back(spawn([&] {
      auto mine = Client(name).joinable_queue<std::int64_t>("j/q", 100);
      while (auto item = mine.get(200ms)) mine.task_done();
      return 0;
    }));
  }
  BOOST_TEST(q.join(30s));
  BOOST_TEST(q.unfinished() == 0);
  for (pid_t w : workers) BOOST_TEST(wait_exit(w).value() == 0);
  BOOST_TEST((error_of([&] { q.task_done(); }) == errc::invalid_argument));  // more than were put
}

BOOST_AUTO_TEST_CASE(a_sigkilled_blocked_getter_takes_nothing_and_others_carry_on) {
  auto q = client->queue<std::int64_t>("k/q", 4);
  pid_t waiter = spawn([&] {
    Client(name).queue<std::int64_t>("k/q", 4).get();  // blocks: the queue is empty
    return 0;
  });
  BOOST_TEST(!wait_exit(waiter, 100ms).has_value());  // still blocked
  kill_now(waiter);
  q.put(41);
  pid_t other = spawn([&] { return Client(name).queue<std::int64_t>("k/q", 4).get(2s).value_or(0) == 41 ? 0 : 1; });
  BOOST_TEST(wait_exit(other, 5s).value() == 0);
  BOOST_TEST(q.state()["gets"] == 1);
}

BOOST_AUTO_TEST_CASE(a_sigkilled_blocked_putter_adds_nothing) {
  auto q = client->queue<std::int64_t>("kp/q", 2);
  q.put(1);
  q.put(2);
  pid_t putter = spawn([&] {
    Client(name).queue<std::int64_t>("kp/q", 2).put(3);  // blocks: the queue is full
    return 0;
  });
  BOOST_TEST(!wait_exit(putter, 100ms).has_value());
  kill_now(putter);
  BOOST_TEST(q.get(1s).value_or(-1) == 1);
  BOOST_TEST(q.get(1s).value_or(-1) == 2);
  BOOST_TEST(!q.get_nowait().has_value());
}

BOOST_AUTO_TEST_CASE(a_producer_killed_mid_stream_leaves_whole_items_in_order) {
  auto q = client->queue<std::string>("s/q", 64, 512);
  pid_t producer = spawn([&] {
    auto mine = Client(name).queue<std::string>("s/q", 64, 512);
    for (std::int64_t i = 0;; ++i) {
      std::string item = std::to_string(i) + ":" + std::string(static_cast<std::size_t>(i % 400), 'a' + i % 26);
      mine.put(item);
    }
    return 0;
  });
  std::int64_t next = 0;
  for (int round = 0; round < 5000 && next < 2000; ++round) {
    if (auto item = q.get(1s)) {
      BOOST_REQUIRE(*item ==
                    std::to_string(next) + ":" + std::string(static_cast<std::size_t>(next % 400), 'a' + next % 26));
      ++next;
    }
  }
  kill_now(producer);
  while (auto item = q.get_nowait()) {  // whatever it left is whole and in order
    BOOST_REQUIRE(*item ==
                  std::to_string(next) + ":" + std::string(static_cast<std::size_t>(next % 400), 'a' + next % 26));
    ++next;
  }
  BOOST_TEST(next >= 2000);
}

BOOST_AUTO_TEST_CASE(the_socket_transport_puts_and_gets_the_same_items) {
  Client remote = new_client(Transport::socket);
  auto far = remote.queue<double>("net/q", 8);
  auto near = client->queue<double>("net/q", 8);
  far.put(1.5);
  BOOST_TEST(near.get(1s).value_or(0) == 1.5);
  pid_t putter = spawn([&] {
    Client c(name);
    return c.queue<double>("net/q", 8).put(2.5, 5s) ? 0 : 1;
  });
  BOOST_TEST(far.get(10s).value_or(0) == 2.5);  // the remote blocking get, woken by a local put
  BOOST_TEST(wait_exit(putter).value() == 0);
  BOOST_TEST(!far.get(50ms).has_value());
}

BOOST_AUTO_TEST_CASE(bad_queues_and_wrong_types_get_clear_errors) {
  auto q = client->queue<std::int64_t>("bad/q", 3);
  BOOST_TEST((error_of([&] { client->queue<std::string>("bad/q", 3); }) == errc::type_mismatch));
  BOOST_TEST(
      (error_of([&] {
         client->request(
             {{"op", "create"}, {"name", "bad/neg"}, {"type", "queue"}, {"value", {{"of", "int64"}, {"maxsize", -1}}}});
       }) == errc::invalid_argument));
  BOOST_TEST(
      (error_of([&] {
         client->request(
             {{"op", "create"}, {"name", "bad/lock"}, {"type", "queue"}, {"value", {{"of", "lock"}, {"maxsize", 2}}}});
       }) == errc::invalid_argument));
  BOOST_TEST((error_of([&] {
                client->request({{"op", "queue_put"}, {"name", "bad/q"}, {"value", "x"}});
              }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] {
                client->request({{"op", "set"}, {"name", "bad/q"}, {"value", 1}});
              }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] { client->request({{"op", "queue_get"}, {"name", "nope"}}); }) == errc::not_found));
  q.put(5);
  q.put(6);
  json dump = client->dump("bad/");
  BOOST_TEST(dump["variables"][0]["value"]["items"] == json::array({5, 6}));
  auto table = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " bad/");
  BOOST_TEST(table.output.find("2/3 int64 items") != std::string::npos, table.output);
}

BOOST_AUTO_TEST_SUITE_END()
