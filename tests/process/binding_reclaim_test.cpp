// SPDX-License-Identifier: MIT
// Bindings are per process, and the manager gives back those of processes that are
// gone: a SIGKILLed client, a fork child that _exit()s with proxies it inherited, a
// manager killed while serving a wait. The records they kept bound after a delete or
// a grow are then freed, and never while a live process still holds them.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {

struct binding_fixture : manager_fixture {
  json stat() { return client->request({{"op", "stat"}}); }
  std::uint64_t count(const char* key) { return stat()[key].get<std::uint64_t>(); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(binding_reclaim, binding_fixture)

BOOST_AUTO_TEST_CASE(a_sigkilled_client_gives_back_its_bindings_and_the_deleted_record_is_freed) {
  client->create<std::string>("b/killed", "v", 16);
  const std::uint64_t free_before = count("free_bytes");
  pid_t child = child_holding([&] {
    // Leaked on purpose: the process dies holding the binding.
    new Value<std::string>(Client(name).value<std::string>("b/killed"));
  });
  kill_now(child);
  client->remove("b/killed");
  BOOST_TEST(eventually([&] { return count("retired_records") == 0; }, 10s));
  BOOST_TEST(count("bindings_reclaimed") >= 1u);
  BOOST_TEST(count("free_bytes") > free_before);
}

BOOST_AUTO_TEST_CASE(a_fork_child_that_exits_without_unbinding_frees_what_it_inherited) {
  auto held = std::make_optional(client->create<std::string>("b/inherited", "one", 16));
  auto go = client->create<std::int64_t>("b/go", 0);
  pid_t child = spawn([&] {  // spawn's child leaves by _exit(): no destructor runs
    if (!eventually([&] { return go.get() == 1; }, 10s)) return 1;
    return error_of([&] { held->get(); }) == errc::not_found ? 0 : 2;
  });
  held.reset();
  client->remove("b/inherited");
  // A sweep that gives back a dead process's binding of another deleted variable
  // keeps this one: its child lives.
  client->create<std::string>("b/other", "", 16);
  kill_now(child_holding([&] { new Value<std::string>(Client(name).value<std::string>("b/other")); }));
  const std::uint64_t reclaimed = count("bindings_reclaimed");
  client->remove("b/other");
  BOOST_TEST(eventually([&] { return count("bindings_reclaimed") > reclaimed; }, 10s));
  BOOST_TEST(count("retired_records") == 1u);
  go.set(1);
  BOOST_TEST(wait_exit(child, 10s).value_or(-1) == 0);
  BOOST_TEST(eventually([&] { return count("retired_records") == 0; }, 10s));
}

BOOST_AUTO_TEST_CASE(stat_counts_the_bindings_of_each_process_and_drops_them_when_it_dies) {
  client->create<std::int64_t>("b/counted", 0);
  const std::uint64_t bindings = count("bindings");
  const std::uint64_t processes = count("binding_processes");
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    children.push_back(child_holding([&] {
      Client c(name);
      new Value<std::int64_t>(c.value<std::int64_t>("b/counted"));
      new Value<std::int64_t>(c.value<std::int64_t>("b/counted"));
    }));
  }
  json s = stat();
  BOOST_TEST(s["bindings"] == bindings + 6);
  BOOST_TEST(s["bindings_ledgered"] == s["bindings"]);
  BOOST_TEST(s["binding_processes"] == processes + 3);
  for (pid_t c : children) kill_now(c);
  BOOST_TEST(eventually([&] { return count("bindings") == bindings; }, 10s));
  BOOST_TEST(count("binding_processes") == processes);
}

BOOST_AUTO_TEST_CASE(more_binders_than_ledger_entries_never_free_a_record_a_live_process_holds) {
  auto grown = std::make_optional(client->create<std::string>("b/crowd", "small", 8));
  auto go = client->create<std::int64_t>("b/crowd-go", 0);
  std::vector<pid_t> doomed;  // with this process, they take every ledger entry
  for (std::size_t i = 1; i < core::record_binder_slots; ++i) {
    doomed.push_back(child_holding([&] { new Value<std::string>(Client(name).value<std::string>("b/crowd")); }));
  }
  // The survivor binds last, so it is the one beyond the ledger: counted, unledgered.
  pid_t survivor = spawn([&] {
    Value<std::string> mine = Client(name).value<std::string>("b/crowd");
    go.set(1);
    if (!eventually([&] { return go.get() == 2; }, 20s)) return 1;
    return mine.get() == std::string(100, 'x') ? 0 : 2;  // still the moved-from record, followed
  });
  BOOST_REQUIRE(eventually([&] { return go.get() == 1; }, 10s));
  grown->set(std::string(100, 'x'));  // moves the value: the old record is retired
  const std::uint64_t reclaimed = count("bindings_reclaimed");
  grown.reset();
  for (pid_t c : doomed) kill_now(c);
  // Each doomed child held two bindings of the old record (its own and the one it
  // inherited from this process at fork); the survivor's are beyond the ledger.
  BOOST_TEST(eventually([&] { return count("bindings_reclaimed") >= reclaimed + 2 * doomed.size(); }, 10s));
  BOOST_TEST(count("retired_records") == 1u);  // the survivor's binding keeps it
  for (int i = 0; i < 20; ++i) client->create<std::string>("b/reuse/" + std::to_string(i), std::string(40, 'r'));
  go.set(2);
  BOOST_TEST(wait_exit(survivor, 20s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(an_adopting_manager_gives_back_the_bindings_of_the_one_that_died) {
  client->create<std::int64_t>("b/waited", 0);
  const std::uint64_t bindings = count("bindings");
  raw_connection waiter(manager->socket_path());
  waiter.send(R"({"op":"wait","name":"b/waited","version":1,"timeout_ms":60000})"
              "\n");
  BOOST_REQUIRE(eventually([&] { return count("bindings") == bindings + 1; }, 5s));
  kill_manager();
  restart_manager();
  client.emplace(new_client());
  BOOST_TEST(eventually([&] { return count("bindings") == bindings; }, 10s));
}

BOOST_AUTO_TEST_SUITE_END()
