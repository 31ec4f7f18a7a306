// SPDX-License-Identifier: MIT
// Socket waits at scale: a thousand pending `wait`s cost a handful of watcher
// threads (futex_waitv, 127 variables each), not a thread each; every one is
// answered when a local proxy in this process writes its variable, and the
// watchers end once nothing is left to watch.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "mpstate/core/process_identity.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(wait_scale, manager_fixture)

BOOST_AUTO_TEST_CASE(a_thousand_pending_waits_cost_a_few_threads_and_all_are_answered) {
  BOOST_REQUIRE_MESSAGE(raise_open_file_limit(4096) >= 1100, "needs 1,100 file descriptors");
  constexpr int waits = 1000, variables = 10;
  std::vector<Value<std::int64_t>> vars;
  for (int v = 0; v < variables; ++v) vars.push_back(client->create<std::int64_t>("w/" + std::to_string(v), 0));
  std::vector<std::unique_ptr<raw_connection>> conns;
  for (int i = 0; i < waits; ++i) {
    conns.push_back(std::make_unique<raw_connection>(manager->socket_path()));
    conns.back()->send(R"({"id":)" + std::to_string(i) + R"(,"op":"wait","name":"w/)" + std::to_string(i % variables) +
                       R"(","version":1,"timeout_ms":60000})"
                       "\n");
  }
  auto stat = [&] { return client->request({{"op", "stat"}}); };
  BOOST_REQUIRE(eventually([&] { return stat()["waits_pending"] == waits; }, 20s));
  const json during = stat();
  BOOST_TEST(during["wait_threads"].get<int>() <= 9, during.dump());  // ceil(1000 / 127) = 8
  const auto cpu_before = core::process_cpu_time(manager->pid());
  const auto t0 = steady_clock::now();
  while (steady_clock::now() - t0 < 1s) std::this_thread::sleep_for(50ms);  // a measurement window, not a sync
  const double idle_share = std::chrono::duration<double>(core::process_cpu_time(manager->pid()) - cpu_before).count();
  BOOST_TEST_MESSAGE(waits << " pending waits: " << during["wait_threads"] << " watcher threads, manager CPU "
                           << idle_share * 100 << "% of a core while idle");

  for (auto& v : vars) v.set(2);  // local writes: only the futex wakes the manager
  for (int i = 0; i < waits; ++i) {
    auto line = conns[static_cast<std::size_t>(i)]->read_line(10s);
    BOOST_REQUIRE_MESSAGE(line.has_value(), "wait " << i << " never answered");
    json r = json::parse(*line);
    BOOST_TEST(r["id"] == i);
    BOOST_TEST(r["result"]["changed"] == true);
  }
  BOOST_TEST(eventually([&] { return stat()["waits_pending"] == 0; }, 5s));
  BOOST_TEST(eventually([&] { return stat()["wait_threads"] == 0; }, 10s));  // watchers end when idle
}

BOOST_AUTO_TEST_SUITE_END()
