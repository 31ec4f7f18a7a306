// SPDX-License-Identifier: MIT
// The Redis backend's queues against a real redis-server (redis_fixture): every item
// taken once and in order by competing consumers, timeouts, a bounded queue, join,
// and a consumer SIGKILLed in the middle of its takes: no item is delivered twice,
// and none is lost but the one it held when it died.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(redis_queues, redis_fixture)

BOOST_AUTO_TEST_CASE(three_consumers_take_every_item_of_a_producer_once_and_in_order) {
  constexpr std::int64_t items = 3000;
  constexpr int consumers = 3;
  Client c = new_client();
  auto q = c.queue<std::int64_t>("jobs");
  std::vector<pid_t> pids;
  for (int k = 0; k < consumers; ++k) {
    pids.push_back(spawn([&, k] {
      auto mine = rb_connect(url()).queue<std::int64_t>("jobs");
      std::ofstream out(redis.dir() + "/taken-" + std::to_string(k), std::ios::binary);
      while (true) {
        std::optional<std::int64_t> item = mine.get(20s);
        if (!item) return 2;
        if (*item < 0) return 0;  // one end marker each
        out.write(reinterpret_cast<const char*>(&*item), sizeof *item);
        if (!out) return 3;
      }
    }));
  }
  pid_t producer = spawn([&] {
    auto mine = rb_connect(url()).queue<std::int64_t>("jobs");
    for (std::int64_t i = 0; i < items; ++i) {
      if (!mine.put(i, 10s)) return 2;
    }
    for (int k = 0; k < consumers; ++k) mine.put(-1);
    return 0;
  });
  BOOST_TEST(wait_exit(producer, 60s).value_or(-100) == 0);
  for (pid_t p : pids) BOOST_TEST(wait_exit(p, 60s).value_or(-100) == 0);

  std::vector<std::int64_t> all;
  for (int k = 0; k < consumers; ++k) {
    const std::vector<std::int64_t> part = rb_read_items(redis.dir() + "/taken-" + std::to_string(k));
    BOOST_TEST(std::is_sorted(part.begin(), part.end()), "consumer " << k << " saw items out of order");
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  BOOST_REQUIRE_EQUAL(all.size(), static_cast<std::size_t>(items));
  for (std::int64_t i = 0; i < items; ++i) {
    if (all[static_cast<std::size_t>(i)] != i) BOOST_FAIL("item " << i << " missing or repeated");
  }
  BOOST_TEST(q.empty());
  BOOST_TEST(q.size() == 0u);
  BOOST_TEST(!q.get_nowait().has_value());
}

BOOST_AUTO_TEST_CASE(queue_timeouts_time_out_and_a_bounded_queue_blocks_its_producer) {
  Client c = new_client();
  auto q = c.queue<std::string>("q/bounded", 2);
  BOOST_TEST(q.maxsize() == 2u);
  BOOST_TEST(!q.get_nowait().has_value());
  milliseconds took = time_of([&] { BOOST_TEST(!q.get(200ms).has_value()); });
  BOOST_TEST(took >= 200ms);
  BOOST_TEST(took < 3s);
  BOOST_TEST(q.put("a"));
  BOOST_TEST(q.put_nowait("b"));
  BOOST_TEST(q.full());
  BOOST_TEST(!q.put_nowait("c"));
  took = time_of([&] { BOOST_TEST(!q.put("c", 200ms)); });
  BOOST_TEST(took >= 200ms);
  BOOST_TEST(q.size() == 2u);
  pid_t taker = spawn([&] {
    auto mine = rb_connect(url()).queue<std::string>("q/bounded", 2);
    return mine.get(5s) == std::optional<std::string>("a") ? 0 : 1;
  });
  BOOST_TEST(q.put("c", 10s));  // room once the child has taken one
  BOOST_TEST(wait_exit(taker, 10s).value_or(-100) == 0);
  BOOST_TEST(q.get(1s).value_or("") == "b");
  BOOST_TEST(q.get(1s).value_or("") == "c");
  BOOST_TEST(q.empty());
}

BOOST_AUTO_TEST_CASE(a_joinable_queue_joins_once_every_item_is_marked_done) {
  constexpr std::int64_t items = 200;
  constexpr int workers = 2;
  Client c = new_client();
  auto jq = c.joinable_queue<std::int64_t>("jq");
  auto processed = c.create<std::int64_t>("jq-processed", 0);
  for (std::int64_t i = 0; i < items; ++i) BOOST_REQUIRE(jq.put(i, 1s));
  for (int w = 0; w < workers; ++w) BOOST_REQUIRE(jq.put(-1, 1s));
  BOOST_TEST(jq.unfinished() == static_cast<std::uint64_t>(items + workers));
  BOOST_TEST(!jq.join(100ms));  // nothing done yet
  std::vector<pid_t> pids;
  for (int w = 0; w < workers; ++w) {
    pids.push_back(spawn([&] {
      Client mine = rb_connect(url());
      auto q = mine.joinable_queue<std::int64_t>("jq");
      auto n = mine.value<std::int64_t>("jq-processed");
      while (true) {
        std::optional<std::int64_t> item = q.get(10s);
        if (!item) return 2;
        if (*item >= 0) n.add(1);  // the work, before it is marked done
        q.task_done();
        if (*item < 0) return 0;
      }
    }));
  }
  BOOST_TEST(jq.join(20s));
  BOOST_TEST(processed.get() == items);  // join did not return before the work was done
  BOOST_TEST(jq.unfinished() == 0u);
  for (pid_t p : pids) BOOST_TEST(wait_exit(p, 20s).value_or(-100) == 0);
  BOOST_TEST((error_of([&] { jq.task_done(); }) == errc::invalid_argument));  // more than were put
}

// A consumer SIGKILLed anywhere in its loop: in a take (before Redis moved the item,
// after it, before the acknowledgement) or between a take and its record. What it
// had not acknowledged comes back after its lease; so the survivor gets every item
// once, except at most the one the killed consumer held and had not yet written.
BOOST_AUTO_TEST_CASE(a_consumer_sigkilled_mid_take_loses_no_item_to_the_others) {
  const std::string leased = url("lease_ms=300");
  Client c = rb_connect(leased);
  Queue<std::int64_t> q = c.queue<std::int64_t>("jobs");
  constexpr int items = 2000;
  for (int i = 0; i < items; ++i) q.put(i);
  const std::string killed_file = redis.dir() + "/killed.items", survivor_file = redis.dir() + "/survivor.items";
  auto consume = [&](const std::string& file, milliseconds patience) {
    Client mine = rb_connect(leased);
    Queue<std::int64_t> theirs = mine.queue<std::int64_t>("jobs");
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    for (int empty = 0; empty < 3;) {  // gives up after three empty waits
      auto item = theirs.get(patience);
      if (!item) {
        ++empty;
        continue;
      }
      empty = 0;
      if (::write(fd, &*item, sizeof *item) != sizeof *item) return 1;
    }
    return 0;
  };
  pid_t victim = spawn([&] { return consume(killed_file, 10s); });
  BOOST_REQUIRE(eventually([&] { return rb_read_items(killed_file).size() >= 300; }, 20s));
  kill_now(victim);
  pid_t survivor = spawn([&] { return consume(survivor_file, 1s); });
  BOOST_TEST(wait_exit(survivor, 60s).value_or(-1) == 0);
  const auto killed = rb_read_items(killed_file), kept = rb_read_items(survivor_file);
  std::set<std::int64_t> all(killed.begin(), killed.end());
  all.insert(kept.begin(), kept.end());
  BOOST_TEST(all.size() == killed.size() + kept.size());          // nothing delivered twice
  BOOST_TEST(all.size() >= static_cast<std::size_t>(items - 1));  // nothing lost but one held
  BOOST_TEST(std::is_sorted(killed.begin(), killed.end()));
  BOOST_TEST_MESSAGE("killed consumer took " << killed.size() << ", the survivor " << kept.size() << ", missing "
                                             << items - static_cast<int>(all.size()));
}

BOOST_AUTO_TEST_SUITE_END()
