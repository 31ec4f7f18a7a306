// SPDX-License-Identifier: MIT
// Counter across real processes: exact totals from adders mapped and over the
// socket (counter_checks.hpp, which Redis passes too); a SIGKILLed adder that leaves
// nothing to recover; a total that survives a killed and restarted manager.
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include "counter_checks.hpp"

using namespace mpstate;
using namespace mpstate::test;

BOOST_FIXTURE_TEST_SUITE(counters, manager_fixture)

BOOST_AUTO_TEST_CASE(four_mapped_adders_end_at_exactly_their_sum) {
  counter_adders_end_at_exactly_their_sum([&] { return new_client(Transport::local); }, 4, 100'000);
}

BOOST_AUTO_TEST_CASE(two_adders_over_the_socket_end_at_exactly_their_sum) {
  counter_adders_end_at_exactly_their_sum([&] { return new_client(Transport::socket); }, 2, 1'000);
}

BOOST_AUTO_TEST_CASE(a_counter_refuses_what_it_cannot_do_mapped_and_over_the_socket) {
  a_counter_refuses_set_cas_and_wait_and_binds_only_as_a_counter(*client);
  Client remote = new_client(Transport::socket);
  a_counter_refuses_set_cas_and_wait_and_binds_only_as_a_counter(remote);
}

BOOST_AUTO_TEST_CASE(an_adder_killed_mid_run_leaves_nothing_to_recover) {
  Counter hits = client->counter("hits");
  auto started = client->create<bool>("started", false);
  const pid_t adder = spawn([&] {
    Client own(name);
    Counter c = own.counter("hits");
    own.value<bool>("started").set(true);
    while (true) c.add();
    return 0;
  });
  BOOST_REQUIRE(eventually([&] { return started.get() && hits.get() > 1000; }, 10s));
  kill_now(adder);
  const std::int64_t left = hits.get();
  // No lock died with it: the next adds go straight on, and every one counts.
  for (int i = 0; i < 1000; ++i) hits.add();
  BOOST_TEST(hits.get() == left + 1000);
}

BOOST_AUTO_TEST_CASE(the_total_survives_a_killed_and_restarted_manager) {
  Counter hits = client->counter("hits");
  for (int i = 0; i < 500; ++i) hits.add(3);
  client.reset();
  kill_manager();
  restart_manager();
  client.emplace(name);
  BOOST_TEST(client->counter("hits").get() == 1500);
  BOOST_TEST(client->type_of("hits").value() == "counter");
}

BOOST_AUTO_TEST_SUITE_END()
