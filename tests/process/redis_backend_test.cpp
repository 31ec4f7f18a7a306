// SPDX-License-Identifier: MIT
// The Redis backend of the client: a Client made from "redis://HOST:PORT[/DB]?..." or
// "redis+unix:///path?..." carries out every op against a real redis-server (started
// per test by redis_fixture) instead of an mpstate manager. Exact counts from real
// child processes, every value type round-tripped, the error codes, blocking waits
// (redis_wait_test.cpp), URL errors, a Redis that goes away and comes back, and
// acknowledged writes surviving a SIGKILL of redis (AOF). Queues, locks, loops and
// events: redis_sync_test.cpp.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <fstream>
#include <limits>
#include <mutex>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;


BOOST_FIXTURE_TEST_SUITE(redis_backend, redis_fixture)

// ---- 0. the fixture itself (passes without the backend) ----

BOOST_AUTO_TEST_CASE(the_fixture_serves_a_private_redis_without_snapshots) {
  BOOST_TEST(redis.cli("ping").output == "PONG\n");
  BOOST_TEST(redis.cli("config get save").output == "save\n\n");
  BOOST_TEST(redis.cli("config get appendonly").output == "appendonly\nno\n");
  BOOST_TEST(redis.cli("config get dir").output == "dir\n" + redis.dir() + "\n");
  BOOST_TEST(run_command("redis-cli -p " + std::to_string(redis.port()) + " ping").output == "PONG\n");
  BOOST_TEST(keys(0).empty());
  BOOST_TEST(url("lease_ms=500") ==
             "redis://127.0.0.1:" + std::to_string(redis.port()) + "?prefix=" + prefix + "&lease_ms=500");
  BOOST_TEST(unix_url("db=2") == "redis+unix://" + redis.socket_path() + "?prefix=" + prefix + "&db=2");
  const pid_t first = redis.pid();
  redis.stop();
  BOOST_TEST(!redis.running());
  BOOST_TEST(::kill(first, 0) == -1);  // reaped: no such process
  redis.restart();
  BOOST_TEST(redis.running());
  BOOST_TEST(redis.cli("ping").output == "PONG\n");
}

BOOST_FIXTURE_TEST_CASE(the_aof_fixture_keeps_acknowledged_writes_across_a_sigkill, redis_aof_fixture) {
  BOOST_TEST(redis.cli("config get appendfsync").output == "appendfsync\nalways\n");
  BOOST_TEST(redis.cli("set k v1").output == "OK\n");
  const int port = redis.port();
  redis.kill_now();
  BOOST_TEST(redis.cli("ping").exit_code != 0);  // down
  redis.restart();
  BOOST_TEST(redis.port() == port);
  BOOST_TEST(redis.cli("get k").output == "v1\n");
}

// ---- 1. exact counts from children ----

BOOST_AUTO_TEST_CASE(a_redis_url_makes_a_remote_client_and_four_children_add_exactly) {
  Client c(ClientOptions{.manager_name = url()});
  BOOST_TEST(!c.is_local());
  auto count = c.create<std::int64_t>("count", 0);
  constexpr int children = 4, adds = 500;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i) {
    pids.push_back(spawn([&] {
      Client mine(url());  // the string constructor takes the URL as well
      auto n = mine.value<std::int64_t>("count");
      for (int k = 0; k < adds; ++k) n.add(1);
      return mine.is_local() ? 3 : 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p, 60s).value_or(-100) == 0);
  BOOST_TEST(count.get() == children * adds);
  BOOST_TEST(count.add(5) == children * adds + 5);  // add returns the new value
  BOOST_TEST(rb_connect(url()).value<std::int64_t>("count").get() == children * adds + 5);
}

BOOST_AUTO_TEST_CASE(three_children_incrementing_with_compare_exchange_lose_no_update) {
  Client c = new_client();
  auto n = c.create<std::int64_t>("cas/n", 0);
  constexpr int children = 3, increments = 300;
  std::vector<pid_t> pids;
  for (int i = 0; i < children; ++i) {
    pids.push_back(spawn([&] {
      auto mine = rb_connect(url()).value<std::int64_t>("cas/n");
      for (int k = 0; k < increments; ++k) {
        std::int64_t seen = mine.get();
        while (!mine.compare_exchange(seen, seen + 1)) {  // seen now holds the current value
        }
      }
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p, 60s).value_or(-100) == 0);
  BOOST_TEST(n.get() == children * increments);
  // A failed compare_exchange hands back the current value; a right one stores.
  std::int64_t expected = 1;
  BOOST_TEST(!n.compare_exchange(expected, 5));
  BOOST_TEST(expected == children * increments);
  BOOST_TEST(n.compare_exchange(expected, 5));
  BOOST_TEST(n.get() == 5);
}

BOOST_AUTO_TEST_CASE(the_state_lives_in_redis_under_the_prefix_and_prefixes_and_databases_are_apart) {
  Client a = new_client();
  a.create<std::int64_t>("shared/x", 1);
  const std::string other = unique_name("rbother");  // no common start with `prefix`
  Client b = rb_connect("redis://127.0.0.1:" + std::to_string(redis.port()) + "?prefix=" + other);
  BOOST_TEST(!b.type_of("shared/x").has_value());
  b.create<std::int64_t>("shared/x", 2);  // the same name under another prefix: no clash
  BOOST_TEST(a.value<std::int64_t>("shared/x").get() == 1);
  BOOST_TEST(b.value<std::int64_t>("shared/x").get() == 2);
  BOOST_TEST((a.list() == std::vector<std::string>{"shared/x"}));  // names without the prefix
  // Every key the backend wrote is under one of the two prefixes, and both wrote some.
  const std::vector<std::string> keys0 = keys(0);
  bool ours = false, theirs = false;
  for (const std::string& k : keys0) {
    const bool under_ours = k.rfind(prefix, 0) == 0, under_theirs = k.rfind(other, 0) == 0;
    BOOST_TEST((under_ours || under_theirs), "key outside both prefixes: " << k);
    ours = ours || under_ours;
    theirs = theirs || under_theirs;
  }
  BOOST_TEST(ours);
  BOOST_TEST(theirs);

  // Database 1 is another space; the unix socket reaches the same server and databases.
  Client d1 = rb_connect(url_db(1));
  BOOST_TEST(!d1.type_of("shared/x").has_value());
  d1.create<std::string>("shared/x", "in db 1");
  Client u1 = rb_connect(unix_url("db=1"));
  BOOST_TEST(!u1.is_local());
  BOOST_TEST(u1.value<std::string>("shared/x").get() == "in db 1");
  Client u0 = rb_connect(unix_url());
  BOOST_TEST(u0.value<std::int64_t>("shared/x").get() == 1);
  u0.value<std::int64_t>("shared/x").set(11);  // a write over the socket, read over TCP
  BOOST_TEST(a.value<std::int64_t>("shared/x").get() == 11);
  const std::vector<std::string> keys1 = keys(1);
  BOOST_TEST(!keys1.empty());
  for (const std::string& k : keys1) BOOST_TEST(k.rfind(prefix, 0) == 0, "key outside the prefix: " << k);
}

// ---- 2. round trips, types, errors ----

BOOST_AUTO_TEST_CASE(every_value_type_round_trips_and_each_set_raises_the_version) {
  Client c = new_client();
  auto i = c.create<std::int64_t>("t/int", 42);
  BOOST_TEST(i.get() == 42);
  rb_check_sets<std::int64_t>(i, {rb_int64_max, rb_int64_min, -1, 0, 1234567890123});

  auto u = c.create<std::uint64_t>("t/uint", std::numeric_limits<std::uint64_t>::max());
  BOOST_TEST(u.get() == std::numeric_limits<std::uint64_t>::max());
  rb_check_sets<std::uint64_t>(u, {0, (std::uint64_t{1} << 63) + 1, std::numeric_limits<std::uint64_t>::max()});

  auto d = c.create<double>("t/double", 0.1);
  BOOST_TEST(d.get() == 0.1);  // exact, not rounded through a short decimal
  rb_check_sets<double>(d, {-2.5e300, 5e-324, 1.0 / 3.0, -0.0, 123456.789});

  auto b = c.create<bool>("t/bool", true);
  BOOST_TEST(b.get() == true);
  rb_check_sets<bool>(b, {false, true, false});

  auto s = c.create<std::string>("t/string", "");
  BOOST_TEST(s.get() == "");
  rb_check_sets<std::string>(s, {"h\xC3\xA9llo, \"w\xC3\xB6rld\"\n\t\xE2\x9C\x93 {}[]\\", std::string(10000, 'x'),
                                 "\x7F \x01 ctrl", ""});

  const json doc = {{"a", json::array({1, 2.5, json{{"b", nullptr}}})}, {"s", "x\"y"}, {"t", true}};
  auto j = c.create<json>("t/json", doc);
  BOOST_TEST(j.get() == doc);
  rb_check_sets<json>(j, {json::array(), json{{"n", -7}}, json("text"), doc});

  // Another connection (another process) reads the same values.
  pid_t reader = spawn([&] {
    Client mine = rb_connect(url());
    return mine.value<std::int64_t>("t/int").get() == 1234567890123 &&
                   mine.value<std::uint64_t>("t/uint").get() == std::numeric_limits<std::uint64_t>::max() &&
                   mine.value<double>("t/double").get() == 123456.789 && !mine.value<bool>("t/bool").get() &&
                   mine.value<std::string>("t/string").get().empty() && mine.value<json>("t/json").get() == doc
               ? 0
               : 1;
  });
  BOOST_TEST(wait_exit(reader, 20s).value_or(-100) == 0);

  BOOST_TEST(c.type_of("t/int").value_or("") == "int64");
  BOOST_TEST(c.type_of("t/uint").value_or("") == "uint64");
  BOOST_TEST(c.type_of("t/double").value_or("") == "double");
  BOOST_TEST(c.type_of("t/bool").value_or("") == "bool");
  BOOST_TEST(c.type_of("t/string").value_or("") == "string");
  BOOST_TEST(c.type_of("t/json").value_or("") == "json");
  BOOST_TEST(!c.type_of("t/none").has_value());
}

// The hot path, counted by Redis itself: with nobody waiting, a get is one HMGET and
// each write one script of a read and a write (an add's two HINCRBYs), no clock, no
// stream, nothing else (commandstats counts the commands scripts run too).
BOOST_AUTO_TEST_CASE(each_value_op_is_one_command_and_unwatched_writes_run_nothing_more) {
  Client c = new_client();
  auto v = c.create<std::int64_t>("h/v", 0);
  const auto round = [&](std::int64_t i) {  // from 4i to 4i+4
    BOOST_TEST(v.add(2) == 4 * i + 2);
    v.set(v.get() + 1);
    std::int64_t expected = 4 * i + 3;
    BOOST_TEST(v.compare_exchange(expected, expected + 1));
  };
  round(0);  // the client knows the type, Redis the scripts
  BOOST_TEST(redis.cli("CONFIG RESETSTAT").output == "OK\n");
  for (int i = 1; i <= 10; ++i) round(i);
  std::map<std::string, long> calls;
  std::istringstream stats(redis.cli("INFO commandstats").output);
  for (std::string line; std::getline(stats, line);) {
    const auto colon = line.find(':');
    if (!line.starts_with("cmdstat_") || line.starts_with("cmdstat_config") || colon == std::string::npos) continue;
    calls[line.substr(8, colon - 8)] = std::stol(line.substr(line.find("calls=") + 6));
  }
  const std::map<std::string, long> expected = {{"evalsha", 30}, {"hmget", 40}, {"hincrby", 20}, {"hset", 20}};
  BOOST_TEST(calls == expected, "commands run: " << json(calls).dump());
  BOOST_TEST(v.get() == 44);
}

BOOST_AUTO_TEST_CASE(wrong_types_missing_names_taken_names_removal_and_overflow_have_their_codes) {
  Client c = new_client();
  c.create<std::string>("e/text", "hi");
  BOOST_TEST((error_of([&] { c.value<std::int64_t>("e/text"); }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] { c.value<std::int64_t>("e/missing"); }) == errc::not_found));
  BOOST_TEST((error_of([&] { c.create<std::string>("e/text", "again"); }) == errc::already_exists));
  BOOST_TEST((error_of([&] { c.create<std::int64_t>("e/text", 1); }) == errc::already_exists));
  BOOST_TEST(c.value<std::string>("e/text").get() == "hi");  // not overwritten
  BOOST_TEST(c.value_or_create<std::string>("e/text", "other").get() == "hi");
  BOOST_TEST(c.value_or_create<std::int64_t>("e/fresh", 3).get() == 3);

  // Overflow: refused, nothing changed.
  auto big = c.create<std::int64_t>("e/big", rb_int64_max - 1);
  BOOST_TEST(big.add(1) == rb_int64_max);
  const std::uint64_t at_max = big.version();
  BOOST_TEST((error_of([&] { big.add(1); }) == errc::out_of_range));
  BOOST_TEST(big.get() == rb_int64_max);
  BOOST_TEST(big.version() == at_max);
  auto small = c.create<std::int64_t>("e/small", rb_int64_min);
  BOOST_TEST((error_of([&] { small.add(-1); }) == errc::out_of_range));
  BOOST_TEST(small.get() == rb_int64_min);

  // Around 2^53, where the script's Lua doubles stop being exact: every sum exact.
  constexpr std::int64_t exact = std::int64_t{1} << 53;
  auto edge = c.create<std::int64_t>("e/edge", exact - 2);
  BOOST_TEST(edge.add(1) == exact - 1);
  BOOST_TEST(edge.add(1) == exact);
  BOOST_TEST(edge.add(1) == exact + 1);
  BOOST_TEST(edge.add(-(exact + 1)) == 0);
  BOOST_TEST(edge.add(-exact + 1) == -exact + 1);
  BOOST_TEST(edge.add(-2) == -exact - 1);
  BOOST_TEST(edge.get() == -exact - 1);
  BOOST_TEST(edge.add(exact + 1) == 0);

  // Removal: bound proxies and new bindings get not_found; a set creates it again
  // (the protocol's `set` creates a missing variable, over a manager's socket too).
  auto doomed = c.create<std::int64_t>("e/doomed", 7);
  c.remove("e/doomed");
  BOOST_TEST((error_of([&] { doomed.get(); }) == errc::not_found));
  BOOST_TEST((error_of([&] { c.value<std::int64_t>("e/doomed"); }) == errc::not_found));
  BOOST_TEST((error_of([&] { c.remove("e/doomed"); }) == errc::not_found));
  BOOST_TEST(!c.type_of("e/doomed").has_value());
  doomed.set(8);
  BOOST_TEST(c.type_of("e/doomed").value_or("") == "int64");
  BOOST_TEST(doomed.get() == 8);
  c.remove("e/doomed");
  c.create<std::string>("e/doomed", "back");  // the name is free again, for any type
  BOOST_TEST(c.type_of("e/doomed").value_or("") == "string");

  // Made again with another type by another client: a proxy whose client still
  // knows the old type gets type_mismatch for each write, and nothing changes.
  Client other = new_client();
  c.create<std::int64_t>("e/retyped", 1);
  auto known = other.value<std::int64_t>("e/retyped");
  BOOST_TEST(known.add(1) == 2);  // `other` now takes it for an int64
  c.remove("e/retyped");
  c.create<std::string>("e/retyped", "text");
  BOOST_TEST((error_of([&] { known.add(1); }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] { known.set(5); }) == errc::type_mismatch));
  BOOST_TEST(c.value<std::string>("e/retyped").get() == "text");

  // Listing: sorted, by prefix.
  for (const char* n : {"l/b", "l/c", "l/a", "m/x", "l/sub/z"}) c.create<std::int64_t>(n, 0);
  BOOST_TEST((c.list("l/") == std::vector<std::string>{"l/a", "l/b", "l/c", "l/sub/z"}));
  BOOST_TEST((c.list("m/") == std::vector<std::string>{"m/x"}));
  BOOST_TEST(c.list("zz/").empty());
  const std::vector<std::string> all = c.list();
  BOOST_TEST(std::is_sorted(all.begin(), all.end()));
  BOOST_TEST(all.size() == 12u);  // e/text e/fresh e/big e/small e/edge e/doomed e/retyped + the 5 above
}

// ---- 9. bad URLs, nothing listening ----

BOOST_AUTO_TEST_CASE(bad_urls_are_invalid_arguments_that_name_the_problem) {
  rb_failure f = rb_failure_of([] { rb_connect("redis://").list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "host"), f.what);

  f = rb_failure_of([] { rb_connect("redis://h:99999").list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "port"), f.what);

  f = rb_failure_of([&] { rb_connect(url("bogus=1")).list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "bogus"), f.what);

  f = rb_failure_of([&] { rb_connect(url("lease_ms=soon")).list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "lease_ms"), f.what);

  f = rb_failure_of([] { rb_connect("redis+unix://").list(); });  // no socket path
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
}

BOOST_AUTO_TEST_CASE(nothing_listening_is_manager_unavailable_within_a_couple_of_seconds) {
  const int port = free_tcp_port();  // nobody listens there
  rb_failure f;
  milliseconds took = time_of([&] {
    f = rb_failure_of([&] { rb_connect("redis://127.0.0.1:" + std::to_string(port) + "?prefix=" + prefix).list(); });
  });
  BOOST_TEST((f.code == errc::manager_unavailable), f.what);
  BOOST_TEST(took < 3s, "took " << took.count() << " ms");

  const std::string no_socket = redis.dir() + "/nobody.sock";
  took = time_of([&] { f = rb_failure_of([&] { rb_connect("redis+unix://" + no_socket).list(); }); });
  BOOST_TEST((f.code == errc::manager_unavailable), f.what);
  BOOST_TEST(took < 3s, "took " << took.count() << " ms");
}

// ---- 10. durability with an append-only file ----

BOOST_FIXTURE_TEST_CASE(acknowledged_adds_survive_a_sigkill_of_redis_with_appendfsync_always, redis_aof_fixture) {
  {
    Client c = new_client();
    auto n = c.create<std::int64_t>("durable/n", 0);
    std::int64_t last = 0;
    for (int i = 0; i < 1000; ++i) last = n.add(1);
    BOOST_REQUIRE_EQUAL(last, 1000);  // every add acknowledged
    c.create<std::string>("durable/s", "kept");
  }
  redis.kill_now();  // no shutdown, no final flush
  redis.restart();
  Client after = new_client();
  BOOST_TEST(after.value<std::int64_t>("durable/n").get() == 1000);
  BOOST_TEST(after.value<std::string>("durable/s").get() == "kept");
}

// What an existing client does while Redis is down and after it is back: it tries
// for 3 s (a restart fits), then says manager_unavailable; then it works again.
BOOST_FIXTURE_TEST_CASE(while_redis_is_down_ops_fail_fast_and_the_client_works_again_after, redis_aof_fixture) {
  Client c = new_client();
  auto n = c.create<std::int64_t>("down/n", 5);
  redis.kill_now();
  rb_failure f;
  const milliseconds took = time_of([&] { f = rb_failure_of([&] { n.get(); }); });
  BOOST_TEST((f.code == errc::manager_unavailable), f.what);
  BOOST_TEST((took >= 2s && took < 6s), "took " << took.count() << " ms");
  redis.restart();
  BOOST_TEST(eventually([&] { return error_of([&] { n.add(1); }) == errc::ok; }, 5s));
  BOOST_TEST(n.get() == 6);
}

// On a Unix socket the client does not look at the connection before each command:
// the write to a restarted server's closed socket fails instead (without SIGPIPE,
// which would kill this process), and the command goes again on a new connection.
BOOST_FIXTURE_TEST_CASE(a_unix_socket_client_resends_after_a_restart_without_dying_of_sigpipe, redis_aof_fixture) {
  Client c(ClientOptions{.manager_name = unix_url()});
  auto n = c.create<std::int64_t>("restart/n", 5);
  redis.kill_now();
  redis.restart();
  BOOST_TEST((error_of([&] { n.add(1); }) == errc::ok));  // the first try: not sent on the old one, resent
  BOOST_TEST(n.get() == 6);
}

BOOST_AUTO_TEST_SUITE_END()
