// SPDX-License-Identifier: MIT
// Waiting for a change on the Redis backend: a blocking wait_for_change woken by
// another process's write and timing out when nothing changes, and the watch that
// makes value writes publish to the wait stream only while someone waits.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;

BOOST_FIXTURE_TEST_SUITE(redis_waits, redis_fixture)

BOOST_AUTO_TEST_CASE(wait_for_change_wakes_on_a_childs_set_and_times_out_when_nothing_changes) {
  Client c = new_client();
  auto v = c.create<std::int64_t>("w/v", 0);
  const std::uint64_t seen = v.version();
  int go[2];
  BOOST_REQUIRE(::pipe(go) == 0);
  pid_t setter = spawn([&] {
    auto mine = rb_connect(url()).value<std::int64_t>("w/v");  // bound before the signal
    char ch;
    if (::read(go[0], &ch, 1) != 1) return 2;
    mine.set(77);
    return 0;
  });
  ::close(go[0]);
  BOOST_REQUIRE(::write(go[1], "x", 1) == 1);
  std::uint64_t now = seen;
  const milliseconds woke = time_of([&] { now = v.wait_for_change(seen, 10s); });
  ::close(go[1]);
  BOOST_TEST(now > seen);
  BOOST_TEST(woke < 5s);  // woken by the set, well before the timeout
  BOOST_TEST(v.get() == 77);
  BOOST_TEST(wait_exit(setter, 10s).value_or(-100) == 0);

  const std::uint64_t quiet = v.version();
  std::uint64_t after = 0;
  const milliseconds waited = time_of([&] { after = v.wait_for_change(quiet, 300ms); });
  BOOST_TEST(after == quiet);
  BOOST_TEST(waited >= 300ms);
  BOOST_TEST(waited < 3s);
}

// Value writes publish to the wait stream only while a waiter watches
// (redis_scripts.cpp): each kind of write must still wake a waiter that is already
// blocked in XREAD, and writes nobody waits for add no stream entry, a lapsed watch
// included (each round starts from one, `wu` set in the past).
BOOST_AUTO_TEST_CASE(every_value_write_wakes_a_waiter_already_blocked_and_unwatched_writes_publish_nothing) {
  Client c = new_client();
  auto v = c.create<std::int64_t>("w/hot", 0);
  const std::string hash = prefix + "{w/hot}";
  const auto last_entry = [&] { return redis.cli("XREVRANGE " + hash + ":w + - COUNT 1").output; };
  const auto blocked = [&] { return redis.cli("INFO clients").output.find("blocked_clients:1") != std::string::npos; };
  const std::vector<std::pair<std::string, std::function<void()>>> writes = {
      {"add", [&] { v.add(1); }}, {"set", [&] { v.set(v.get() + 1); }}, {"cas", [&] {
                                                                           std::int64_t was = v.get();
                                                                           BOOST_TEST(v.compare_exchange(was, was + 1));
                                                                         }}};
  for (const auto& [what, write] : writes) {
    BOOST_TEST(redis.cli("HSET " + hash + " wu 1").exit_code == 0);  // a watch that lapsed long ago
    const std::string before = last_entry();
    for (int i = 0; i < 3; ++i) write();
    BOOST_TEST(last_entry() == before, what << ": nobody waited, yet the stream moved");
    BOOST_TEST(redis.cli("HEXISTS " + hash + " wu").output == "0\n", what << ": the lapsed watch stayed");

    const std::uint64_t seen = v.version();
    pid_t waiter = spawn([&] {
      auto mine = rb_connect(url()).value<std::int64_t>("w/hot");
      const std::uint64_t now = mine.wait_for_change(seen, 30s);
      return now > seen ? 0 : 3;
    });
    BOOST_REQUIRE_MESSAGE(eventually(blocked, 10s), what << ": the waiter never blocked");
    const milliseconds woke = time_of([&] {
      write();
      BOOST_TEST(wait_exit(waiter, 20s).value_or(-100) == 0, what);
    });
    BOOST_TEST(woke < 5s, what);  // by the write, long before the waiter's 30 s
    BOOST_TEST(last_entry() != before, what);
  }
  BOOST_TEST(v.get() == 12);

  // A wait that does not block watches nothing.
  BOOST_TEST(redis.cli("HDEL " + hash + " wu").exit_code == 0);  // the last round's watch
  BOOST_TEST(v.wait_for_change(v.version(), 0ms) == v.version());
  BOOST_TEST(redis.cli("HEXISTS " + hash + " wu").output == "0\n");

  // Deleting the variable wakes a waiter already blocked: that is a change.
  const std::uint64_t seen = v.version();
  pid_t waiter = spawn([&] {
    auto mine = rb_connect(url()).value<std::int64_t>("w/hot");
    return mine.wait_for_change(seen, 30s) != seen ? 0 : 3;
  });
  BOOST_REQUIRE(eventually(blocked, 10s));
  const milliseconds woke = time_of([&] {
    c.remove("w/hot");
    BOOST_TEST(wait_exit(waiter, 20s).value_or(-100) == 0);
  });
  BOOST_TEST(woke < 5s);
}

BOOST_AUTO_TEST_SUITE_END()
