// SPDX-License-Identifier: MIT
// Snapshots (--snapshot FILE): values survive a reboot (the segment removed with
// every process killed), a clean exit saves the last values, a bad file is refused
// and left alone, and a live segment is never overwritten by an older snapshot.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "mpstate/core/names.hpp"
#include "mpstate/json.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct snapshot_fixture {
  snapshot_fixture() : name(unique_name("snap")), file(dir.dir + "/" + name + ".snapshot.json") {}
  ~snapshot_fixture() {
    manager.reset();
    shm_unlink(("/" + core::segment_name(name)).c_str());
  }
  ManagerOptions options(const std::string& interval) const {
    ManagerOptions o;
    o.name = name;
    o.size = 4 << 20;
    o.executable = MPSTATE_MANAGER_PATH;
    o.extra_args = {"--snapshot", file, "--snapshot-interval", interval};
    return o;
  }
  void start(const std::string& interval = "0.05") { manager.emplace(Manager::start(options(interval))); }
  // What a reboot does: every process gone, /dev/shm empty.
  void reboot() {
    ::kill(manager->pid(), SIGKILL);
    manager.reset();
    BOOST_REQUIRE(shm_unlink(("/" + core::segment_name(name)).c_str()) == 0);
  }
  json saved() const {
    std::ifstream in(file);
    if (!in) return json();
    return json::parse(in, nullptr, false);
  }
  json saved_value(const std::string& var) const {
    json s = saved();
    if (!s.is_object()) return json();
    for (const json& v : s["variables"]) {
      if (v["name"] == var) return v["value"];
    }
    return json();
  }
  std::string file_text() const {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  runtime_dir_fixture dir;
  std::string name;
  std::string file;
  std::optional<Manager> manager;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(snapshots, snapshot_fixture)

BOOST_AUTO_TEST_CASE(every_value_survives_a_reboot) {
  start();
  {
    Client c = manager->connect();
    c.create<std::int64_t>("v/int", -42);
    c.create<std::uint64_t>("v/uint", 18446744073709551615ull);
    c.create<double>("v/pi", 3.25);
    c.create<double>("v/nan", std::nan(""));
    c.create<bool>("v/flag", true);
    c.create<std::string>("v/text", std::string("line\nnul\0end", 12), 512);
    c.create<Bytes>("v/bytes", Bytes{0, 1, 2, 255});
    c.create<json>("v/json", json{{"jobs", {1, 2, 3}}, {"nested", {{"ok", true}}}}, 1024);
    auto done = c.loop("v/loop_done");
    done.mark_starting();
    done.mark_running();
    done.heartbeat();
    done.heartbeat();
    done.mark_stopped();
    auto live = c.loop("v/loop_live");  // running when the machine goes down
    live.mark_starting();
    live.mark_running();
    c.value<std::int64_t>("v/int").set(-43);  // the last write before the crash
  }
  BOOST_REQUIRE(
      eventually([&] { return saved_value("v/int") == -43 && saved_value("v/loop_live")["state"] == "running"; }, 5s));
  reboot();

  start();
  Client c = manager->connect();
  BOOST_TEST(c.request({{"op", "stat"}})["adopted"] == false);  // a fresh segment, filled from the file
  BOOST_TEST(c.list("v/").size() == 10u);
  BOOST_TEST(c.value<std::int64_t>("v/int").get() == -43);
  BOOST_TEST(c.value<std::uint64_t>("v/uint").get() == 18446744073709551615ull);
  BOOST_TEST(c.value<double>("v/pi").get() == 3.25);
  BOOST_TEST(std::isnan(c.value<double>("v/nan").get()));
  BOOST_TEST(c.value<bool>("v/flag").get() == true);
  BOOST_TEST(c.value<std::string>("v/text").get() == std::string("line\nnul\0end", 12));
  BOOST_TEST((c.value<Bytes>("v/bytes").get() == Bytes{0, 1, 2, 255}));
  BOOST_TEST(c.value<json>("v/json").get()["nested"]["ok"] == true);
  json dump = c.dump("v/text");
  BOOST_TEST(dump["variables"][0]["capacity"] == 512);  // capacities come back too
  LoopInfo done = c.loop("v/loop_done").info();
  BOOST_TEST((done.state == LoopPhase::stopped));
  BOOST_TEST(done.iterations == 2u);
  LoopInfo live = c.loop("v/loop_live").info();
  BOOST_TEST((live.state == LoopPhase::failed));  // its owner did not survive the reboot
  BOOST_TEST(live.reason.find("was running") != std::string::npos, live.reason);
}

BOOST_AUTO_TEST_CASE(sync_variables_come_back_with_no_holder_after_a_reboot) {
  start();
  {
    Client c = manager->connect();
    c.lock("s/lock").acquire();  // held by a process that will not survive the reboot
    auto sem = c.bounded_semaphore("s/sem", 3, PermitRecovery::return_dead_holders);
    sem.acquire();
    c.semaphore("s/count", 2).acquire();  // a counter: the permit taken stays taken
    c.event("s/event").set();
    c.barrier("s/barrier", 4);
  }
  BOOST_REQUIRE(
      eventually([&] { return saved_value("s/lock")["locked"] == true && saved_value("s/sem")["value"] == 2; }, 5s));
  reboot();
  start();
  Client c = manager->connect();
  BOOST_TEST(!c.lock("s/lock").locked());
  BOOST_TEST(c.bounded_semaphore("s/sem").value() == 3);  // the held permit is back
  BOOST_TEST(c.bounded_semaphore("s/sem").state()["bound"] == 3);
  BOOST_TEST(c.bounded_semaphore("s/sem").state()["return_dead_permits"] == true);
  BOOST_TEST(c.semaphore("s/count").value() == 1);
  BOOST_TEST(c.event("s/event").is_set());
  BOOST_TEST(c.barrier("s/barrier", 4).parties() == 4);
}

BOOST_AUTO_TEST_CASE(containers_come_back_whole_after_a_reboot) {
  start();
  {
    Client c = manager->connect();
    auto q = c.joinable_queue<std::string>("c/q", 4, 32);
    q.put("first");
    q.put("second");
    c.list_of<double>("c/list").extend({1.5, 2.5, 3.5});
    c.array<std::int64_t>("c/array", 3).set(2, 9);
    c.dict<std::int64_t>("c/dict").set("k", 7);
    c.condition("c/cond").acquire();  // held by a process that will not survive the reboot
    c.create<std::string>("c/grown", "", 4).set(std::string(3000, 'g'));
  }
  BOOST_REQUIRE(eventually([&] { return saved_value("c/grown").is_string(); }, 5s));
  reboot();
  start();
  Client c = manager->connect();
  auto q = c.joinable_queue<std::string>("c/q", 4, 32);
  BOOST_TEST(q.get(1s).value_or("") == "first");  // in order, whole
  BOOST_TEST(q.get(1s).value_or("") == "second");
  BOOST_TEST(q.unfinished() == 2);
  BOOST_TEST((c.list_of<double>("c/list").to_vector() == std::vector<double>{1.5, 2.5, 3.5}));
  BOOST_TEST((c.array<std::int64_t>("c/array", 3).to_vector() == std::vector<std::int64_t>{0, 0, 9}));
  BOOST_TEST(c.dict<std::int64_t>("c/dict").get("k") == 7);
  BOOST_TEST(!c.condition("c/cond").locked());
  BOOST_TEST(c.value<std::string>("c/grown").get().size() == 3000u);
}

BOOST_AUTO_TEST_CASE(a_clean_exit_saves_the_last_values) {
  start("0");  // no periodic snapshots: only the one at exit
  manager->connect().create<std::string>("last/words", "goodbye");
  BOOST_TEST(!fs::exists(file));
  manager->stop();
  BOOST_TEST(saved_value("last/words") == "goodbye");
  BOOST_TEST(!fs::exists("/dev/shm/" + core::segment_name(name)));  // removed: the snapshot holds it
  start("0");
  BOOST_TEST(manager->connect().value<std::string>("last/words").get() == "goodbye");
}

BOOST_AUTO_TEST_CASE(a_live_segment_wins_over_an_older_snapshot) {
  start("0");
  auto v = manager->connect().create<std::int64_t>("n", 1);
  manager->stop();  // the snapshot says 1
  start("0");
  manager->connect().value<std::int64_t>("n").set(2);
  ::kill(manager->pid(), SIGKILL);  // the segment, which says 2, stays
  manager.reset();
  start("0");
  BOOST_TEST(manager->connect().value<std::int64_t>("n").get() == 2);
}

BOOST_AUTO_TEST_CASE(a_bad_snapshot_is_refused_and_left_as_it_is) {
  const std::vector<std::string> bad_files = {
      "{not json",
      R"({"format":"something-else","format_version":1,"variables":[]})",
      R"({"format":"mpstate-snapshot","format_version":99,"variables":[]})",
      R"({"format":"mpstate-snapshot","format_version":1,"variables":[{"name":"../x","type":"int64","capacity":0,"value":1}]})",
      R"({"format":"mpstate-snapshot","format_version":1,"variables":[{"name":"ok","type":"int64","capacity":0,"value":1},)"
      R"({"name":"bad","type":"int64","capacity":0,"value":"text"}]})",
  };
  for (const std::string& text : bad_files) {
    std::ofstream(file) << text;
    BOOST_TEST((error_of([&] { start("0"); }) == errc::system_error), text);  // it exits instead of serving
    auto r = run_command("MPSTATE_RUNTIME_DIR=" + dir.dir + " timeout 5 " + MPSTATE_MANAGER_PATH + " --name " + name +
                         " --snapshot " + file + " 2>&1");
    BOOST_TEST(r.exit_code == 1, text);
    BOOST_TEST(r.output.find("invalid_argument: snapshot " + file) != std::string::npos, r.output);
    BOOST_TEST(file_text() == text);                                  // not rewritten at exit
    BOOST_TEST(!fs::exists("/dev/shm/" + core::segment_name(name)));  // nothing half-restored left to adopt
  }
}

BOOST_AUTO_TEST_CASE(a_snapshot_that_cannot_be_written_keeps_the_segment) {
  file = dir.dir + "/missing-directory/snap.json";
  start("0");
  manager->connect().create<std::int64_t>("kept", 7);
  manager->stop();  // the snapshot fails: the segment is the only copy left
  BOOST_TEST(fs::exists("/dev/shm/" + core::segment_name(name)));
  file = dir.dir + "/snap.json";
  start("0");
  BOOST_TEST(manager->connect().value<std::int64_t>("kept").get() == 7);
}

BOOST_AUTO_TEST_SUITE_END()
