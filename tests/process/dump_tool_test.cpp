// mpstate-dump as a user runs it: its --json parsed and checked, the table read.
#include <boost/test/unit_test.hpp>

#include "mpstate/core/process_identity.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

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
  BOOST_TEST(eventually([&] {
    v.add(1);
    return stamp_of() > first;
  }, 2s));
}

BOOST_AUTO_TEST_CASE(the_table_shows_names_types_and_short_values) {
  client->create<std::string>("t/long", std::string(200, 'z'), 256);
  auto r = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name);
  BOOST_REQUIRE(r.exit_code == 0);
  BOOST_TEST(r.output.find("t/long") != std::string::npos);
  BOOST_TEST(r.output.find("string") != std::string::npos);
  BOOST_TEST(r.output.find("...") != std::string::npos);          // shortened
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
  BOOST_TEST(r.output.find("0/4 waiting (-), generation 0") != std::string::npos, r.output);
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
