// SPDX-License-Identifier: MIT
// The `mpstate` CLI as an operator runs it: every command, bad input, exit codes.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "mpstate/core/names.hpp"
#include "mpstate/version.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {
struct cli_fixture : manager_fixture {
  command_result cli(const std::string& args) {
    return run_command("timeout 20 " + std::string(MPSTATE_CLI_PATH) + " -n " + name + " " + args + " 2>&1");
  }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(cli, cli_fixture)

BOOST_AUTO_TEST_CASE(get_set_add_del_list_and_their_output) {
  BOOST_TEST(cli("set jobs/done 41").output == "OK\n");
  BOOST_TEST(cli("add jobs/done 1").output == "42\n");
  BOOST_TEST(cli("get jobs/done").output == "42\n");
  BOOST_TEST(cli("set jobs/name 'night run'").output == "OK\n");  // not JSON: text
  BOOST_TEST(cli("get jobs/name").output == "night run\n");
  BOOST_TEST(cli("set jobs/cfg '{\"workers\":4}'").exit_code == 0);
  BOOST_TEST(cli("get jobs/cfg").output == "{\"workers\":4}\n");
  BOOST_TEST(json::parse(cli("--json get jobs/done").output)["value"] == 42);
  BOOST_TEST(cli("list jobs/").output == "jobs/cfg\njobs/done\njobs/name\n");
  BOOST_TEST(cli("keys jobs/d").output == "jobs/done\n");
  BOOST_TEST(cli("del jobs/cfg").exit_code == 0);
  BOOST_TEST(client->value<std::int64_t>("jobs/done").get() == 42);
  BOOST_TEST(client->list("jobs/").size() == 2u);
}

BOOST_AUTO_TEST_CASE(errors_have_codes_and_exit_codes) {
  auto missing = cli("get nothing/here");
  BOOST_TEST(missing.exit_code == 1);
  BOOST_TEST(missing.output.find("not_found") != std::string::npos, missing.output);
  cli("set n 1");
  auto wrong = cli("add n lots");
  BOOST_TEST(wrong.exit_code == 2);
  BOOST_TEST(wrong.output.find("DELTA must be a number") != std::string::npos);
  BOOST_TEST(cli("set n '\"text\"'").exit_code == 1);  // type_mismatch
  BOOST_TEST(cli("frobnicate").exit_code == 2);
  BOOST_TEST(cli("get").exit_code == 2);
  BOOST_TEST(cli("").exit_code == 2);
  auto nobody = run_command(std::string(MPSTATE_CLI_PATH) + " -n no-such-manager-x stat 2>&1");
  BOOST_TEST(nobody.exit_code == 3);
  BOOST_TEST(nobody.output.find("manager_unavailable") != std::string::npos, nobody.output);
  BOOST_TEST(run_command(std::string(MPSTATE_CLI_PATH) + " stat 2>&1").exit_code == 2);  // which manager?
  auto v = run_command(std::string(MPSTATE_CLI_PATH) + " --version");
  BOOST_TEST(v.output == "mpstate " MPSTATE_VERSION "\n");
}

BOOST_AUTO_TEST_CASE(wait_and_watch_see_changes_and_wait_times_out) {
  auto n = client->create<std::int64_t>("w/n", 0);
  BOOST_TEST(cli("wait w/n 0.2").exit_code == 4);  // nothing changed
  auto waiting = [&] { return client->request({{"op", "stat"}})["waits_pending"] == 1; };
  command_result watched{};
  std::thread watcher([&] { watched = cli("--count 1 watch w/n"); });
  BOOST_REQUIRE(eventually(waiting, 10s));  // it printed the value and waits in the manager
  n.set(5);
  watcher.join();
  BOOST_TEST(watched.exit_code == 0);
  BOOST_TEST(watched.output == "0\n5\n");
  command_result waited{};
  std::thread waiter([&] { waited = cli("wait w/n 10"); });
  BOOST_REQUIRE(eventually(waiting, 10s));
  n.set(6);
  waiter.join();
  BOOST_TEST(waited.exit_code == 0);
  BOOST_TEST(waited.output == "6\n");
}

BOOST_AUTO_TEST_CASE(loop_status_and_stop) {
  auto loop = client->loop("svc/loop");
  loop.mark_starting();
  loop.mark_running();
  BOOST_TEST(cli("loop svc/loop status").output.starts_with("running pid=" + std::to_string(getpid())));
  pid_t owner_side = spawn([&] {  // the owner's part: stop when asked
    auto mine = Client(name).loop("svc/loop");
    return mine.wait_for(LoopPhase::stopping, std::chrono::milliseconds(10000)) == LoopPhase::stopping ? 0 : 1;
  });
  command_result stopped{};
  std::thread stopper([&] { stopped = cli("--timeout 10 loop svc/loop stop"); });
  BOOST_TEST(wait_exit(owner_side, 10s).value_or(-1) == 0);
  loop.mark_stopped();
  stopper.join();
  BOOST_TEST(stopped.exit_code == 0);
  BOOST_TEST(stopped.output == "stopped\n");
  BOOST_TEST(cli("loop svc/loop sideways").exit_code == 2);
}

BOOST_AUTO_TEST_CASE(stat_dump_raw_and_shutdown) {
  client->create<std::int64_t>("s/x", 7);
  auto st = cli("stat");
  BOOST_TEST(st.output.find("variables: 1") != std::string::npos, st.output);
  cli("get s/missing");  // an error, counted
  const json st_json = json::parse(cli("--json stat").output);
  BOOST_TEST(st_json["version"] == MPSTATE_VERSION);
  BOOST_TEST(st_json["counters"]["ops"]["get"].get<int>() >= 1);
  BOOST_TEST(st_json["counters"]["errors"]["not_found"].get<int>() >= 1);
  BOOST_TEST(st_json["counters"]["ops"]["hello"].get<int>() >= 3);  // a connection per CLI run
  BOOST_TEST(st_json["bytes_in"].get<std::uint64_t>() > 0u);
  BOOST_TEST(st_json["bytes_out"].get<std::uint64_t>() > st_json["bytes_in"].get<std::uint64_t>() / 4);
  BOOST_TEST(cli("dump s/").output.find("s/x") != std::string::npos);
  auto raw = cli("raw '{\"op\":\"get\",\"name\":\"s/x\"}' '{\"op\":\"nope\"}'");
  BOOST_TEST(raw.exit_code == 1);
  BOOST_TEST(raw.output.find("\"value\":7") != std::string::npos, raw.output);
  BOOST_TEST(raw.output.find("unknown_op") != std::string::npos, raw.output);
  auto piped =
      run_command("printf '{\"op\":\"list\"}\\n' | " + std::string(MPSTATE_CLI_PATH) + " -n " + name + " raw -");
  BOOST_TEST(piped.output.find("s/x") != std::string::npos, piped.output);
  BOOST_TEST(cli("shutdown").output == "OK\n");
  BOOST_TEST(eventually([&] { return cli("stat").exit_code == 3; }, 10s));  // gone: no manager answers
}

// A manager SIGKILLed and never restarted leaves its segment (a restart would adopt
// it); `segments` tells it from a served one, and `clean` removes it and only it.
BOOST_AUTO_TEST_CASE(segments_tells_orphaned_from_served_and_clean_removes_only_the_orphaned) {
  ManagerOptions o;
  o.name = name + "-killed";
  o.size = 8 << 20;
  Manager killed = Manager::start(o);
  killed.connect().create<std::int64_t>("n", 7);
  const pid_t pid = killed.pid();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  killed.detach();
  const std::string orphan_file = "/dev/shm/" + core::segment_name(o.name);
  BOOST_REQUIRE(std::filesystem::exists(orphan_file));
  struct removed_at_end {  // even when a check fails
    std::string shm_name;
    ~removed_at_end() { ::shm_unlink(shm_name.c_str()); }
  } leftover{"/" + core::segment_name(o.name)};

  std::map<std::string, json> seen;
  auto list = [&] {
    seen.clear();
    auto listed = cli("--json segments " + name);
    std::istringstream lines(listed.output);
    for (std::string line; std::getline(lines, line);) {
      json j = json::parse(line);
      seen[j["manager"].get<std::string>()] = j;
    }
    return listed.exit_code == 0;
  };
  // Its clock stops with it: once it has not moved for 2 s, nobody serves it.
  BOOST_TEST(eventually([&] { return list() && seen[o.name]["state"] == "orphaned"; }, 10s));
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  BOOST_TEST(seen[name]["state"] == "served");
  BOOST_TEST(seen[o.name]["state"] == "orphaned");
  BOOST_TEST(seen[o.name]["variables"] == 1);
  BOOST_TEST(seen[o.name]["bytes"] == 8u << 20);

  auto cleaned = cli("segments clean " + name);
  BOOST_TEST(cleaned.exit_code == 0);
  BOOST_TEST(cleaned.output == "removed " + o.name + " (8388608 bytes)\n", cleaned.output);
  BOOST_TEST(!std::filesystem::exists(orphan_file));
  BOOST_TEST(std::filesystem::exists("/dev/shm/" + core::segment_name(name)));
  BOOST_TEST(cli("segments clean " + name).output.empty());  // nothing left to clean
  client->value_or_create<std::int64_t>("still/here", 1);    // the served one serves on
  BOOST_TEST(cli("get still/here").output == "1\n");
  BOOST_TEST(cli("segments bogus extra").exit_code == 2);
}

BOOST_AUTO_TEST_SUITE_END()
