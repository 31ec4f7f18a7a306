// SPDX-License-Identifier: MIT
// The behaviour table (behaviour_table.hpp) against the manager, over its socket as a
// client of another language would speak to it; redis_backend_test.cpp runs the same
// table against Redis.
#include <boost/test/unit_test.hpp>

#include "behaviour_table.hpp"

using namespace mpstate;
using namespace mpstate::test;

BOOST_FIXTURE_TEST_SUITE(behaviours, manager_fixture)

BOOST_AUTO_TEST_CASE(every_behaviour_in_the_table_holds_on_the_manager) {
  Client remote = new_client(Transport::socket);
  every_behaviour_in_the_table_holds(remote, "table");
}

BOOST_AUTO_TEST_SUITE_END()
