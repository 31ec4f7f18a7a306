// SPDX-License-Identifier: MIT
// Faults: a process killed while holding a variable's lock, and the manager killed
// under its clients.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;

namespace {
// Forks a child that enters update() on `v`, tells us it holds the lock, and
// waits there to be killed.
template <class T, class Fn>
pid_t child_holding_the_lock(Value<T>& v, Fn&& next_value) {
  int held[2];
  BOOST_REQUIRE(pipe(held) == 0);
  pid_t child = spawn([&] {
    v.update([&](T current) {
      T next = next_value(current);  // computed, not yet committed
      char c = 'x';
      [[maybe_unused]] auto n = write(held[1], &c, 1);
      pause();
      return next;
    });
    return 0;
  });
  char c;
  BOOST_REQUIRE(read(held[0], &c, 1) == 1);
  close(held[0]);
  close(held[1]);
  return child;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(faults, manager_fixture)

BOOST_AUTO_TEST_CASE(a_lock_holder_killed_by_sigkill_leaves_the_last_committed_value) {
  auto text = client->create<std::string>("held/text", "committed", 64);
  pid_t child = child_holding_the_lock(text, [](std::string) { return std::string("never committed"); });
  kill(child, SIGKILL);
  BOOST_TEST(wait_exit(child).value() == -SIGKILL);
  std::string seen;
  BOOST_TEST((time_of([&] { seen = text.get(); }) < 100ms));
  BOOST_TEST(seen == "committed");
  text.set("after recovery");  // the lock is consistent again
  BOOST_TEST(text.get() == "after recovery");
}

BOOST_AUTO_TEST_CASE(an_integer_lock_holder_killed_mid_update_loses_nothing_committed) {
  auto n = client->create<std::int64_t>("held/n", 41);
  pid_t child = child_holding_the_lock(n, [](std::int64_t v) { return v + 1000; });
  kill(child, SIGKILL);
  BOOST_TEST(wait_exit(child).value() == -SIGKILL);
  BOOST_TEST((time_of([&] { BOOST_TEST(n.add(1) == 42); }) < 100ms));
  BOOST_TEST(n.get() == 42);
}

BOOST_AUTO_TEST_CASE(clients_keep_working_while_the_manager_is_dead_and_a_restart_adopts_all) {
  auto counter = client->create<std::int64_t>("m/counter", 5);
  auto text = client->create<std::string>("m/text", "before the crash");
  client->loop("m/loop");
  kill_manager();

  BOOST_TEST(counter.add(1) == 6);                 // no manager on the hot path
  text.set("written while the manager was dead");  // within its room (64 bytes: the default)
  // Outgrowing it needs the manager: refused, the value kept.
  BOOST_TEST((error_of([&] { text.set(std::string(100, 'x')); }) == errc::manager_unavailable));
  BOOST_TEST(text.get() == "written while the manager was dead");
  Client late(name);  // a new client maps the orphaned segment directly
  BOOST_TEST(late.value<std::int64_t>("m/counter").get() == 6);
  BOOST_TEST((error_of([&] { client->create<std::int64_t>("m/new"); }) == errc::manager_unavailable));

  restart_manager();
  BOOST_TEST(client->request({{"op", "stat"}})["adopted"] == true);
  BOOST_TEST(counter.get() == 6);
  BOOST_TEST(text.get() == "written while the manager was dead");
  BOOST_TEST(client->list("m/").size() == 3u);
  BOOST_CHECK_NO_THROW(client->create<std::int64_t>("m/new", 1));  // structure changes work again
  BOOST_TEST(new_client(Transport::socket).value<std::int64_t>("m/counter").get() == 6);
}

// A Lock's proxy lets go of its holding before the release (one store, not a
// compare-exchange after it); a release that fails without ending the holding puts
// it back, so the proxy still holds it and can release it as that holding later.
BOOST_AUTO_TEST_CASE(a_lock_release_that_cannot_reach_the_manager_keeps_the_proxys_holding) {
  Client remote = new_client(Transport::socket);
  auto lock = remote.lock("m/remote-lock");
  BOOST_REQUIRE(lock.acquire().acquired);
  const std::uint64_t epoch = lock.fence().epoch();
  BOOST_REQUIRE(epoch != 0u);
  kill_manager();
  BOOST_TEST((error_of([&] { lock.release(); }) == errc::manager_unavailable));
  BOOST_TEST(lock.fence().epoch() == epoch);  // put back: the release did not happen
  restart_manager();
  // Over the Unix socket the holder is the process, alive: the adopted segment still
  // has it held with that epoch, and the release (made as that holding) ends it.
  BOOST_CHECK_NO_THROW(lock.release());
  BOOST_TEST(!lock.fence());
  BOOST_TEST(client->lock("m/remote-lock").acquire(0ms).acquired);
}

BOOST_AUTO_TEST_CASE(a_second_manager_for_the_same_name_is_refused) {
  ManagerOptions o;
  o.name = name;
  o.executable = MPSTATE_MANAGER_PATH;
  BOOST_TEST((error_of([&] { Manager::start(o); }) == errc::manager_running));
  auto r = run_command(std::string(MPSTATE_MANAGER_PATH) + " --name " + name + " 2>&1");
  BOOST_TEST(r.exit_code == 3);
  BOOST_TEST(r.output.find("manager_running") != std::string::npos);
  BOOST_TEST(client->value_or_create<std::int64_t>("still/served", 1).get() == 1);
}

BOOST_AUTO_TEST_CASE(an_embedded_manager_inherits_none_of_its_parents_connections) {
  auto connections = [&] { return client->request({{"op", "stat"}})["connections"].get<int>(); };
  const int before = connections();
  auto other_client = std::make_optional<Client>(name);  // one more connection to our manager
  other_client->request({{"op", "list"}});
  BOOST_REQUIRE(connections() == before + 1);
  ManagerOptions o;
  o.executable = MPSTATE_MANAGER_PATH;
  Manager second = Manager::start(o);  // forked while that connection is open
  other_client.reset();
  // Had the second manager kept a copy of the socket, ours would never see it close.
  BOOST_TEST(eventually([&] { return connections() == before; }, 5s));
}

BOOST_AUTO_TEST_CASE(a_clean_stop_removes_the_segment_and_socket) {
  std::string socket = manager->socket_path();
  manager->stop();
  BOOST_TEST(access(socket.c_str(), F_OK) != 0);
  BOOST_TEST((error_of([&] { Client c(name); }) == errc::manager_unavailable));
}

BOOST_AUTO_TEST_SUITE_END()
