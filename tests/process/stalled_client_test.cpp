// SPDX-License-Identifier: MIT
// A client stopped (SIGSTOP: Ctrl-Z, a debugger) while it holds a variable's lock
// or the name table's lock holds up nobody else: the manager's socket ops on other
// variables answer at once, its clock and its watcher keep running, and an op on
// the held variable is retried without blocking anyone, then answered `busy`.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/segment.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {

constexpr auto busy_timeout = 300ms;

struct stalled_fixture {
  stalled_fixture() : name(unique_name("stall")) {
    ManagerOptions o;
    o.name = name;
    o.size = 16 << 20;
    o.executable = MPSTATE_MANAGER_PATH;
    o.extra_args = {"--busy-timeout", "0.3"};
    manager.emplace(Manager::start(o));
    client.emplace(manager->connect());
  }
  ~stalled_fixture() {
    for (pid_t p : stopped) {
      ::kill(p, SIGKILL);
      wait_exit(p, 5s);
    }
  }
  // Waits until `pid` is stopped (state T in /proc), so the test knows it holds its lock.
  void until_stopped(pid_t pid) {
    stopped.push_back(pid);
    BOOST_REQUIRE(eventually([&] { return core::is_stopped(pid); }, 5s));
  }
  void resume(pid_t pid) {
    std::erase(stopped, pid);
    ::kill(pid, SIGCONT);
  }
  // The 99th percentile of `n` socket set+get pairs on another variable (the
  // issue's bar is 10 ms; the test allows 50 for a loaded CI machine, where a
  // stalled manager would take seconds or hang).
  microseconds p99_of_other_ops(raw_connection& c, int n) {
    std::vector<microseconds> took;
    for (int i = 0; i < n; ++i) {
      const auto start = steady_clock::now();
      BOOST_REQUIRE(ask(c, R"({"op":"set","name":"free/other","value":)" + std::to_string(i) + "}").contains("result"));
      BOOST_REQUIRE(ask(c, R"({"op":"get","name":"free/other"})")["result"]["value"] == i);
      took.push_back(duration_cast<microseconds>(steady_clock::now() - start));
    }
    std::sort(took.begin(), took.end());
    const microseconds p99 = took[took.size() * 99 / 100];
    BOOST_TEST_MESSAGE("set+get on another variable while a client is stopped: p50 "
                       << took[took.size() / 2].count() << " us, p99 " << p99.count() << " us, max "
                       << took.back().count() << " us");
    return p99;
  }

  std::string name;
  std::optional<Manager> manager;
  std::optional<Client> client;
  std::vector<pid_t> stopped;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(stalled_clients, stalled_fixture)

BOOST_AUTO_TEST_CASE(a_client_stopped_inside_update_stalls_nobody_else) {
  client->create<std::string>("held/text", "a", 64);
  client->create<std::int64_t>("free/other", 0);
  auto loop = client->loop("free/loop");
  pid_t holder = spawn([&] {
    auto text = Client(name).value<std::string>("held/text");
    text.update([](std::string v) {
      ::raise(SIGSTOP);  // stopped holding the variable's lock
      return v + "b";
    });
    return 0;
  });
  until_stopped(holder);

  raw_connection c(manager->socket_path());
  BOOST_TEST(p99_of_other_ops(c, 1000) < 50ms);

  // The held variable itself: retried, then answered busy, naming the holder.
  json reply;
  const milliseconds took = time_of([&] { reply = ask(c, R"({"id":7,"op":"set","name":"held/text","value":"c"})"); });
  BOOST_TEST(code_of(reply) == "busy");
  BOOST_TEST(reply["id"] == 7);
  BOOST_TEST(reply["error"]["message"].get<std::string>().find("held/text") != std::string::npos);
  BOOST_TEST(reply["error"]["message"].get<std::string>().find("(stopped)") != std::string::npos);
  BOOST_TEST((took >= busy_timeout && took < 5s));

  // The watcher still runs: a loop whose owner is killed turns failed.
  pid_t owner = spawn([&] {
    auto l = Client(name).loop("free/loop");
    l.mark_starting();
    l.mark_running();
    ::pause();
    return 0;
  });
  BOOST_REQUIRE(eventually([&] { return loop.info().state == LoopPhase::running; }, 5s));
  ::kill(owner, SIGKILL);
  wait_exit(owner, 5s);
  BOOST_TEST(eventually([&] { return loop.info().state == LoopPhase::failed; }, 5s));

  // The clock cell still ticks.
  auto segment = core::segment::open(core::segment_name(name));
  const std::int64_t before = segment->header().clock_ns.load();
  BOOST_TEST(eventually([&] { return segment->header().clock_ns.load() > before; }, 2s));

  resume(holder);
  BOOST_TEST(wait_exit(holder, 5s).value_or(-1) == 0);
  BOOST_TEST(client->value<std::string>("held/text").get() == "ab");  // the busy set changed nothing
}

// A scalar's writes take no lock (a 16-byte compare-exchange of value and version):
// a process stopped inside update(fn) holds nothing, and its fn runs again on the
// value it finds when it goes on.
BOOST_AUTO_TEST_CASE(a_client_stopped_inside_a_scalars_update_holds_nothing) {
  client->create<std::int64_t>("held/counter", 0);
  pid_t holder = spawn([&] {
    auto counter = Client(name).value<std::int64_t>("held/counter");
    int calls = 0;
    const std::int64_t stored = counter.update([&](std::int64_t v) {
      if (++calls == 1) ::raise(SIGSTOP);  // read 0, stopped before its commit
      return v + 1;
    });
    return stored == 6 && calls == 2 ? 0 : 1;
  });
  until_stopped(holder);

  raw_connection c(manager->socket_path());
  json reply;
  const milliseconds took = time_of([&] { reply = ask(c, R"({"id":8,"op":"set","name":"held/counter","value":5})"); });
  BOOST_TEST(reply.contains("result"), reply.dump());
  BOOST_TEST((took < busy_timeout));  // never retried: nothing was held
  auto counter = client->value<std::int64_t>("held/counter");
  BOOST_TEST(counter.add(0) == 5);

  resume(holder);
  BOOST_TEST(wait_exit(holder, 5s).value_or(-1) == 0);  // its first try failed; fn ran again on 5
  BOOST_TEST(counter.get() == 6);
}

BOOST_AUTO_TEST_CASE(a_client_stopped_holding_the_name_table_stalls_nobody_else) {
  client->create<std::int64_t>("free/other", 0);
  auto keys = client->dict<std::int64_t>("free/d");
  keys.set("a", 1);
  pid_t holder = spawn([&] {
    auto segment = core::segment::open(core::segment_name(name));
    core::robust_lock lock(segment->header().directory_mutex);  // as a lookup does, for a moment
    ::raise(SIGSTOP);
    return 0;
  });
  until_stopped(holder);

  raw_connection c(manager->socket_path());
  BOOST_TEST(p99_of_other_ops(c, 1000) < 50ms);
  BOOST_TEST(keys.keys() == std::vector<std::string>{"a"});  // listing takes no lock
  BOOST_TEST(client->list("free/").size() == 2u);

  // A structural op needs the table: retried, then busy, and nothing made.
  json reply = ask(c, R"({"op":"create","name":"free/new","type":"int64","value":3})");
  BOOST_TEST(code_of(reply) == "busy");
  // One sent now waits behind the lock without blocking anyone, and goes through once it is free.
  raw_connection later(manager->socket_path());
  later.send(R"({"id":"after","op":"create","name":"free/new","type":"int64","value":3})"
             "\n");
  resume(holder);
  auto line = later.read_line(5s);
  BOOST_REQUIRE(line.has_value());
  BOOST_TEST(json::parse(*line).contains("result"), *line);
  BOOST_TEST(wait_exit(holder, 5s).value_or(-1) == 0);
  BOOST_TEST(client->value<std::int64_t>("free/new").get() == 3);
}

// The manager's exit snapshot reads every name on the thread that ran the loop; it
// must not wait for the table's lock a stopped client holds (a SIGTERM would hang,
// then a SIGKILL lose the snapshot and leave the segment behind).
BOOST_AUTO_TEST_CASE(a_manager_with_a_snapshot_stops_promptly_while_a_client_is_stopped_holding_the_name_table) {
  const std::string own = unique_name("stall-exit");
  const std::string snapshot = (std::filesystem::temp_directory_path() / (own + ".json")).string();
  ManagerOptions o;
  o.name = own;
  o.size = 16 << 20;
  o.executable = MPSTATE_MANAGER_PATH;
  o.extra_args = {"--snapshot", snapshot};
  Manager exiting = Manager::start(o);
  exiting.connect().create<std::int64_t>("kept/value", 42);
  pid_t holder = spawn([&] {
    auto segment = core::segment::open(core::segment_name(own));
    core::robust_lock lock(segment->header().directory_mutex);
    ::raise(SIGSTOP);
    return 0;
  });
  until_stopped(holder);
  const auto began = steady_clock::now();
  exiting.stop();  // SIGTERM, then SIGKILL after 5 s
  const auto took = steady_clock::now() - began;
  BOOST_TEST(took < 4s, "stopping took " << duration_cast<milliseconds>(took).count() << " ms");
  std::ifstream saved(snapshot);
  BOOST_REQUIRE(saved.good());
  BOOST_TEST(json::parse(saved).dump().find("kept/value") != std::string::npos);
  std::filesystem::remove(snapshot);
}

BOOST_AUTO_TEST_SUITE_END()
