// SPDX-License-Identifier: MIT
// --busy-poll: a manager that polls its sockets after each request serves exactly
// what one that sleeps serves (socket clients in child processes), says its
// setting in stat, sleeps once the requests stop (it does not spin while idle), and
// refuses a value out of range with a clear error.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <thread>

#include "mpstate/core/process_identity.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;

namespace {
struct busy_manager {
  busy_manager() {
    ManagerOptions o;
    o.name = unique_name("busy");
    o.executable = MPSTATE_MANAGER_PATH;
    o.extra_args = {"--busy-poll", "200"};
    manager.emplace(Manager::start(o));
  }
  std::optional<Manager> manager;
};
}  // namespace

BOOST_AUTO_TEST_SUITE(busy_poll)

BOOST_AUTO_TEST_CASE(a_busy_polling_manager_serves_exact_counts_then_sleeps) {
  busy_manager m;
  Client parent = m.manager->connect(Transport::socket);
  auto stat = parent.request({{"op", "stat"}});
  BOOST_TEST(stat.at("busy_poll_us").get<int>() == 200);
  const pid_t manager_pid = stat.at("manager_pid").get<pid_t>();
  parent.create<std::int64_t>("n", 0);
  constexpr int children = 3, adds = 2000;
  std::vector<pid_t> pids;
  for (int c = 0; c < children; ++c) {
    pids.push_back(spawn([&] {
      Client mine = m.manager->connect(Transport::socket);
      auto n = mine.value<std::int64_t>("n");
      for (int i = 0; i < adds; ++i) n.add(1);
      return 0;
    }));
  }
  for (pid_t p : pids) BOOST_TEST(wait_exit(p).value_or(-1) == 0);
  BOOST_TEST(parent.value<std::int64_t>("n").get() == children * adds);
  // Idle now: its CPU time stops growing (a loop that kept spinning would add about
  // a second of CPU per second).
  BOOST_TEST(eventually(
      [&] {
        const auto before = core::process_cpu_time(manager_pid);
        std::this_thread::sleep_for(300ms);  // a measuring window, not a synchronisation
        return core::process_cpu_time(manager_pid) - before < 60ms;
      },
      10s));
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_refused_at_start) {
  const std::string manager = MPSTATE_MANAGER_PATH;
  for (const char* bad : {"-1", "5001"}) {
    auto r = run_command(manager + " -n " + unique_name("busy") + " --busy-poll " + bad + " 2>&1");
    BOOST_TEST(r.exit_code == 1, bad);
    BOOST_TEST(r.output.find("--busy-poll must be 0 to 5000 microseconds") != std::string::npos, r.output);
  }
  auto r = run_command(manager + " -n " + unique_name("busy") + " --busy-poll fast 2>&1");
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(r.output.find("busy-poll") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
