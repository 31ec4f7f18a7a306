// SPDX-License-Identifier: MIT
// The Redis backend of the client: a Client made from "redis://HOST:PORT[/DB]?..." or
// "redis+unix:///path?..." carries out every op against a real redis-server (started
// per test by redis_fixture) instead of an mpstate manager. Exact counts from real
// child processes, every value type round-tripped, the error codes, blocking waits
// (redis_wait_test.cpp); URL errors, a Redis that goes away and comes back, and
// acknowledged writes surviving a SIGKILL of redis (AOF) in redis_outage_test.cpp.
// Queues, locks, loops and events: redis_sync_test.cpp.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "behaviour_table.hpp"
#include "counter_checks.hpp"
#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {
// Redis's own count of the commands run since CONFIG RESETSTAT (scripts' included),
// by name, CONFIG's left out.
std::map<std::string, long> command_calls(const redis_server& redis) {
  std::map<std::string, long> calls;
  std::istringstream stats(redis.cli("INFO commandstats").output);
  for (std::string line; std::getline(stats, line);) {
    const auto colon = line.find(':');
    if (!line.starts_with("cmdstat_") || line.starts_with("cmdstat_config") || colon == std::string::npos) continue;
    calls[line.substr(8, colon - 8)] = std::stol(line.substr(line.find("calls=") + 6));
  }
  return calls;
}
}  // namespace

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

BOOST_AUTO_TEST_CASE(counters_from_four_children_end_at_exactly_their_sum_and_refuse_what_they_cannot_do) {
  counter_adders_end_at_exactly_their_sum([&] { return rb_connect(url()); }, 4, 300);
  Client c(url());
  a_counter_refuses_set_cas_and_wait_and_binds_only_as_a_counter(c);
}

BOOST_AUTO_TEST_CASE(every_behaviour_in_the_table_holds_on_redis) {
  Client c(url());
  every_behaviour_in_the_table_holds(c, "table");
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
  rb_check_sets<std::string>(
      s, {"h\xC3\xA9llo, \"w\xC3\xB6rld\"\n\t\xE2\x9C\x93 {}[]\\", std::string(10000, 'x'), "\x7F \x01 ctrl", ""});

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
  std::map<std::string, long> calls = command_calls(redis);
  const std::map<std::string, long> expected = {{"evalsha", 30}, {"hmget", 40}, {"hincrby", 20}, {"hset", 20}};
  BOOST_TEST(calls == expected, "commands run: " << json(calls).dump());
  BOOST_TEST(v.get() == 44);
}

// A lock's acquire and release are one script each: a blocking acquire reads no
// version first (the acquire answers one when it fails, for the wait).
BOOST_AUTO_TEST_CASE(a_lock_acquire_and_release_are_two_scripts_and_nothing_else) {
  Client c = new_client();
  Lock lock = c.lock("h/lock");
  BOOST_TEST(lock.acquire().acquired);  // the client knows the type, Redis the scripts
  lock.release();
  BOOST_TEST(redis.cli("CONFIG RESETSTAT").output == "OK\n");
  for (int i = 0; i < 10; ++i) {
    BOOST_TEST(lock.acquire().acquired);
    lock.release();
  }
  std::map<std::string, long> calls = command_calls(redis);
  BOOST_TEST(calls["evalsha"] == 20, "commands run: " << json(calls).dump());
  BOOST_TEST(calls.count("hgetall") == 0u, "commands run: " << json(calls).dump());  // no read of the whole lock
}

// Every third of the lease the renewer renews everything held in one pipelined batch:
// with 24 locks held, Redis reads a renewal pass's 24 scripts in a few read events
// (one round trip), not 24. The reads the test's own redis-cli calls make are counted
// by making the same calls again with no renewal in between.
BOOST_AUTO_TEST_CASE(everything_held_is_renewed_in_one_round_trip) {
  Client c = new_client("lease_ms=900");
  std::vector<Lock> locks;
  for (int i = 0; i < 24; ++i) {
    locks.push_back(c.lock("renew/l" + std::to_string(i)));
    BOOST_TEST(locks.back().acquire().acquired);
  }
  const auto reads = [&] {
    const std::string stats = redis.cli("INFO stats").output;
    const auto at = stats.find("total_reads_processed:");
    BOOST_REQUIRE(at != std::string::npos);
    return std::stol(stats.substr(at + 22));
  };
  auto evalsha = [&] { return command_calls(redis)["evalsha"]; };
  BOOST_TEST(redis.cli("CONFIG RESETSTAT").output == "OK\n");
  int polls = 0;
  BOOST_REQUIRE(eventually(
      [&] {
        ++polls;
        return evalsha() >= 24;  // a renewal pass (its scripts arrive together)
      },
      5s));
  const long with_renewal = reads();
  long calls_only = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {  // the same calls, when no renewal came meanwhile
    BOOST_TEST(redis.cli("CONFIG RESETSTAT").output == "OK\n");
    for (int i = 0; i < polls; ++i) evalsha();
    calls_only = reads();
    if (evalsha() == 0) break;
    calls_only = -1;
  }
  BOOST_REQUIRE(calls_only >= 0);
  const long renewer = with_renewal - calls_only;
  BOOST_TEST_MESSAGE("the renewer's read events for a pass over 24 locks: " << renewer);
  BOOST_TEST(renewer <= 8, "the renewer took " << renewer << " read events for 24+ scripts");
  for (Lock& l : locks) l.release();  // every holding still ours: renewed, not lapsed
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

  // Around 2^53, past which Lua's doubles cannot hold the sum (it comes back as
  // text): every sum exact.
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

  // Listing: sorted, by prefix.
  for (const char* n : {"l/b", "l/c", "l/a", "m/x", "l/sub/z"}) c.create<std::int64_t>(n, 0);
  BOOST_TEST((c.list("l/") == std::vector<std::string>{"l/a", "l/b", "l/c", "l/sub/z"}));
  BOOST_TEST((c.list("m/") == std::vector<std::string>{"m/x"}));
  BOOST_TEST(c.list("zz/").empty());
  const std::vector<std::string> all = c.list();
  BOOST_TEST(std::is_sorted(all.begin(), all.end()));
  BOOST_TEST(all.size() == 11u);  // e/text e/fresh e/big e/small e/edge e/doomed + the 5 above
}

// Deleted, or made again with another type, by another client: proxies whose own
// clients still take the variable for an int64 get the codes Redis's answers give
// (not their clients' caches), and nothing changes. One client per op, so each op
// meets the change first.
BOOST_AUTO_TEST_CASE(proxies_whose_clients_know_an_old_type_get_not_found_and_type_mismatch) {
  Client c = new_client();
  c.create<std::int64_t>("s/v", 1);
  const std::vector<std::pair<std::string, std::function<void(Value<std::int64_t>&)>>> ops = {
      {"get", [](Value<std::int64_t>& v) { v.get(); }},
      {"add", [](Value<std::int64_t>& v) { v.add(1); }},
      {"cas",
       [](Value<std::int64_t>& v) {
         std::int64_t one = 1;
         v.compare_exchange(one, 2);
       }},
      {"set", [](Value<std::int64_t>& v) { v.set(5); }}};  // last: on a deleted variable it creates it
  std::vector<Client> clients;
  std::vector<Value<std::int64_t>> stale;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    clients.push_back(new_client());
    stale.push_back(clients.back().value<std::int64_t>("s/v"));
    BOOST_TEST(stale.back().get() == 1);  // its client now knows the type
  }
  c.remove("s/v");
  for (std::size_t i = 0; i + 1 < ops.size(); ++i) {
    BOOST_TEST((error_of([&] { ops[i].second(stale[i]); }) == errc::not_found), ops[i].first);
  }
  BOOST_TEST(!c.type_of("s/v").has_value());  // nothing made it again

  c.create<std::string>("s/v", "text");
  const std::uint64_t version = c.value<std::string>("s/v").version();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    BOOST_TEST((error_of([&] { ops[i].second(stale[i]); }) == errc::type_mismatch), ops[i].first);
  }
  BOOST_TEST(c.value<std::string>("s/v").get() == "text");
  BOOST_TEST(c.value<std::string>("s/v").version() == version);

  // An int64 whose stored text is not an integer (written by hand, or by another
  // program): add refuses it as internal, with Redis's reason, and changes nothing.
  c.remove("s/v");
  auto n = c.create<std::int64_t>("s/v", 1);
  const std::string hash = "'" + prefix + "{s/v}'";
  BOOST_TEST(redis.cli("HSET " + hash + " v abc").exit_code == 0);
  const std::string before = redis.cli("HGET " + hash + " ver").output;
  try {
    n.add(1);
    BOOST_TEST(false, "an add to 'abc' succeeded");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::internal));
    BOOST_TEST(std::string(e.what()).find("not an integer") != std::string::npos, e.what());
  }
  BOOST_TEST(redis.cli("HGET " + hash + " ver").output == before);
  BOOST_TEST(redis.cli("HGET " + hash + " v").output == "abc\n");
}

BOOST_AUTO_TEST_SUITE_END()
