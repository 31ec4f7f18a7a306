// SPDX-License-Identifier: MIT
// mpstate-dump as a user runs it: its --json parsed and checked, the table read.
#include <boost/test/unit_test.hpp>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/json.hpp"
#include "mpstate/version.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(dump_tool, manager_fixture)

BOOST_AUTO_TEST_CASE(json_output_lists_every_variable_with_type_version_and_value) {
  client->create<std::int64_t>("app/count", 0).set(7);  // written here, not by the manager
  client->create<std::string>("app/name", "scheduler");
  client->create<json>("app/config", json{{"workers", 4}});
  client->create<Bytes>("app/raw", Bytes{'h', 'i'});
  client->create<std::int64_t>("other/x", 1);
  LoopState loop = client->loop("app/loop");
  loop.mark_starting();
  loop.mark_running();
  loop.heartbeat(3);

  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " app/ --json");
  BOOST_REQUIRE(r.exit_code == 0);
  json dump = json::parse(r.output);
  const json& vars = dump["variables"];
  BOOST_REQUIRE(vars.size() == 5u);  // other/x is filtered out
  std::map<std::string, json> by_name;
  for (const auto& v : vars) {
    BOOST_TEST(v.contains("version"));
    by_name[v["name"]] = v;
  }
  BOOST_TEST(by_name["app/count"]["type"] == "int64");
  BOOST_TEST(by_name["app/count"]["value"] == 7);
  BOOST_TEST(by_name["app/name"]["value"] == "scheduler");
  BOOST_TEST(by_name["app/config"]["value"]["workers"] == 4);
  BOOST_TEST(by_name["app/raw"]["value"] == "aGk=");
  const json& lp = by_name["app/loop"]["value"];
  BOOST_TEST(lp["state"] == "running");
  BOOST_TEST(lp["pid"] == getpid());
  BOOST_TEST(lp["iterations"] == 3);
  BOOST_TEST(lp["heartbeat_age_ms"].get<std::int64_t>() >= 0);
  BOOST_TEST(dump["manager_alive"] == true);
  // Last-write stamps come from the segment's clock, ticked by the manager.
  const std::int64_t stamp = by_name["app/count"]["last_write_ns"];
  BOOST_TEST(std::llabs(core::now_ns() - stamp) < 1'000'000'000LL);
  BOOST_TEST(by_name["app/count"]["last_writer_pid"] == getpid());
}

BOOST_AUTO_TEST_CASE(the_last_write_stamp_follows_the_clock) {
  auto v = client->create<std::int64_t>("stamped", 0);
  auto stamp_of = [&] { return client->dump("stamped")["variables"][0]["last_write_ns"].get<std::int64_t>(); };
  const std::int64_t first = stamp_of();
  BOOST_TEST(eventually(
      [&] {
        v.add(1);
        return stamp_of() > first;
      },
      2s));
}

BOOST_AUTO_TEST_CASE(the_table_shows_names_types_and_short_values) {
  client->create<std::string>("t/long", std::string(200, 'z'), 256);
  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name);
  BOOST_REQUIRE(r.exit_code == 0);
  BOOST_TEST(r.output.find("t/long") != std::string::npos);
  BOOST_TEST(r.output.find("string") != std::string::npos);
  BOOST_TEST(r.output.find("...") != std::string::npos);  // shortened
  BOOST_TEST(r.output.find(std::string(100, 'z')) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_table_says_who_holds_locks_permits_and_barrier_places) {
  client->lock("s/lock").acquire();
  auto sem = client->bounded_semaphore("s/sem", 3, PermitRecovery::return_dead_holders);  // owned: holders shown
  sem.acquire();
  sem.acquire();
  client->semaphore("s/count", 2).acquire();  // a counter: no holders
  client->event("s/event").set();
  client->barrier("s/barrier", 4);
  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " s/");
  BOOST_REQUIRE(r.exit_code == 0);
  const std::string me = std::to_string(getpid());
  BOOST_TEST(r.output.find("held by pid " + me) != std::string::npos, r.output);
  BOOST_TEST(r.output.find("1 free of 3, held by " + me + "x2") != std::string::npos, r.output);
  const auto count_line = r.output.substr(r.output.find("s/count"));
  BOOST_TEST(count_line.substr(0, count_line.find('\n')).ends_with(" 1 free"), r.output);
  BOOST_TEST(r.output.find(" set") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("0 of 4 parties waiting, passed 0 times") != std::string::npos, r.output);
  // The TYPE column holds the longest type name with room to spare.
  const auto sem_line = r.output.substr(r.output.find("s/sem"));
  BOOST_TEST(sem_line.find("bounded_semaphore  ") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(the_dump_never_waits_for_a_lock_a_stopped_process_holds) {
  auto doc = client->create<json>("held/doc", json{{"jobs", 3}}, 256);
  client->create<std::int64_t>("held/plain", 5);
  int ready[2];
  BOOST_REQUIRE(::pipe(ready) == 0);
  pid_t child = spawn([&] {
    auto mine = Client(name).value<json>("held/doc");
    mine.update([&](json current) {  // holds the variable's lock, for ever
      char c = 'x';
      [[maybe_unused]] auto n = ::write(ready[1], &c, 1);
      ::pause();
      return current;
    });
    return 0;
  });
  char c;
  BOOST_REQUIRE(::read(ready[0], &c, 1) == 1);
  command_result r{};
  const auto took =
      time_of([&] { r = run_command("timeout 10 " + std::string(MPSTATE_DUMP_PATH) + " " + name + " held/ --json"); });
  BOOST_TEST(took < 3s);
  BOOST_REQUIRE(r.exit_code == 0);
  json dump = json::parse(r.output);
  BOOST_TEST(dump["variables"][0]["value"] == json({{"jobs", 3}}));  // the last committed value
  BOOST_TEST(dump["variables"][0]["locked"].get<std::string>().find("locked by thread") != std::string::npos);
  BOOST_TEST(dump["variables"][1]["value"] == 5);
  auto table = run_command("timeout 10 " + std::string(MPSTATE_DUMP_PATH) + " " + name + " held/");
  BOOST_TEST(table.output.find("{\"jobs\":3}  [") != std::string::npos, table.output);
  // The manager's dump op does not wait either.
  const auto op_took = time_of([&] {
    BOOST_TEST(client->dump("held/")["variables"][0]["value"] == json({{"jobs", 3}}));
  });
  BOOST_TEST(op_took < 1s);
  kill_now(child);
  ::close(ready[0]);
  ::close(ready[1]);
}

BOOST_AUTO_TEST_CASE(with_socket_it_asks_the_manager) {
  client->create<std::int64_t>("sock/x", 9);
  auto r =
      run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " sock/ --json --socket " + manager->socket_path());
  BOOST_REQUIRE(r.exit_code == 0);
  BOOST_TEST(json::parse(r.output)["variables"][0]["value"] == 9);
  auto nobody = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " --socket /nonexistent/x.sock 2>&1");
  BOOST_TEST(nobody.exit_code == 1);
  BOOST_TEST(nobody.output.find("manager_unavailable") != std::string::npos, nobody.output);
}

BOOST_AUTO_TEST_CASE(a_failed_loops_reason_is_shown_whole) {
  auto loop = client->loop("jobs/loop");
  loop.mark_starting();
  const std::string reason =
      "the database at db.internal:5432 refused the connection after 3 retries: " + std::string(60, 'r') + " (end)";
  loop.mark_failed(reason);
  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " jobs/");
  BOOST_TEST(r.output.find(reason) != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(every_binary_says_its_version) {
  for (const char* binary : {MPSTATE_DUMP_PATH, MPSTATE_MANAGER_PATH, MPSTATE_CLI_PATH}) {
    auto r = run_command(std::string(binary) + " --version");
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(r.output.find(MPSTATE_VERSION) != std::string::npos, r.output);
  }
  BOOST_TEST(client->request({{"op", "stat"}})["version"] == MPSTATE_VERSION);
  BOOST_TEST(client->request({{"op", "hello"}})["version"] == MPSTATE_VERSION);
  // A client of an older layout is told which, and which release serves.
  try {
    client->request({{"op", "hello"}, {"layout_version", 5}});
    BOOST_FAIL("an old layout was served");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::layout_mismatch));
    BOOST_TEST(e.message().find("client speaks segment layout 5, this manager (mpstate " MPSTATE_VERSION ") layout " +
                                std::to_string(core::layout_version)) == 0u,
               e.message());
  }
  try {
    client->request({{"op", "hello"}, {"protocol_version", 2}});
    BOOST_FAIL("a newer protocol was served");
  } catch (const error& e) {
    BOOST_TEST(e.message().find("client speaks protocol 2") == 0u, e.message());
  }
  // A client that speaks only the wire says no layout, and is served whatever it is.
  BOOST_TEST(client->request({{"op", "hello"}, {"protocol_version", 1}})["layout_version"] == core::layout_version);
}

BOOST_AUTO_TEST_CASE(the_dump_reads_a_segment_whose_manager_died) {
  client->create<std::int64_t>("survivor", 11);
  kill_manager();
  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " --json");
  BOOST_REQUIRE(r.exit_code == 0);
  json dump = json::parse(r.output);
  BOOST_TEST(dump["manager_alive"] == false);
  BOOST_TEST(dump["variables"][0]["value"] == 11);
  restart_manager();
}

BOOST_AUTO_TEST_CASE(one_unreadable_value_does_not_hide_the_others) {
  // A local writer may store JSON nested deeper than the manager will serialise.
  auto deep = client->create<json>("deep", json(nullptr), 4096);
  json v = json::array();
  for (int i = 0; i < 1000; ++i) v = json::array({v});
  deep.set(v);
  client->create<std::int64_t>("plain", 3);
  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " --json");
  BOOST_REQUIRE(r.exit_code == 0);
  json dump = json::parse(r.output);
  BOOST_REQUIRE(dump["variables"].size() == 2u);
  BOOST_TEST(dump["variables"][0]["name"] == "deep");
  BOOST_TEST(dump["variables"][0]["error"].get<std::string>().find("bad_request") == 0u);
  BOOST_TEST(dump["variables"][1]["value"] == 3);
  BOOST_TEST((error_of([&] { client->request({{"op", "get"}, {"name", "deep"}}); }) == errc::bad_request));
  BOOST_TEST(client->request({{"op", "get"}, {"name", "plain"}})["value"] == 3);  // still serving
}

BOOST_AUTO_TEST_CASE(an_unknown_manager_is_a_clear_error) {
  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " no-such-manager 2>&1");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.output.find("not_found") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
