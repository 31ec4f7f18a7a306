// SPDX-License-Identifier: MIT
// core/counter_ops in isolation, on a scratch segment: shards that sum to the total
// from every CPU, a total that wraps past int64 as documented, and the capacities
// a counter refuses.
#include "mpstate/core/counter_ops.hpp"

#include <sched.h>

#include <boost/test/unit_test.hpp>
#include <limits>

#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using core::value_type;
using test::error_of;

namespace {
core::variable_record& counter(test::scratch_segment& s, const char* name, std::uint32_t shards, std::int64_t initial) {
  core::variable_record* r = s.segment->create_variable(name, value_type::counter, core::counter_capacity(shards));
  core::init_counter(*r, initial);
  return *r;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(counter_ops)

BOOST_AUTO_TEST_CASE(adds_from_every_cpu_land_in_their_shards_and_sum_to_the_total) {
  test::scratch_segment s;
  auto& c = counter(s, "c", 4, 10);
  cpu_set_t was;
  BOOST_REQUIRE(::sched_getaffinity(0, sizeof was, &was) == 0);
  int cpus = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &was)) continue;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    BOOST_REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);  // this thread now runs on `cpu` only
    core::counter_add(c, cpu + 1);
    BOOST_TEST(core::counter_detail::shard(c, static_cast<std::uint32_t>(cpu) & 3).load() != 0u);
    ++cpus;
  }
  ::sched_setaffinity(0, sizeof was, &was);
  std::int64_t expected = 10;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &was)) expected += cpu + 1;
  BOOST_TEST(core::counter_value(c) == expected);
  BOOST_TEST(cpus >= 1);
  BOOST_TEST(c.version.load() == 0u);  // adds move no version (counter_ops.hpp)
}

BOOST_AUTO_TEST_CASE(a_total_past_int64_wraps_as_documented) {
  test::scratch_segment s;
  auto& c = counter(s, "c", 1, std::numeric_limits<std::int64_t>::max());
  core::counter_add(c, 1);
  BOOST_TEST(core::counter_value(c) == std::numeric_limits<std::int64_t>::min());
  core::counter_add(c, -1);
  BOOST_TEST(core::counter_value(c) == std::numeric_limits<std::int64_t>::max());
}

BOOST_AUTO_TEST_CASE(a_capacity_that_is_not_a_power_of_two_of_lines_is_refused) {
  test::scratch_segment s;
  for (std::uint64_t capacity : {std::uint64_t{100}, std::uint64_t{192}, core::counter_capacity(128)}) {
    core::variable_record* r =
        s.segment->create_variable("c" + std::to_string(capacity), value_type::counter, capacity);
    BOOST_TEST((error_of([&] { core::init_counter(*r, 0); }) == errc::invalid_argument), capacity);
  }
  BOOST_TEST(core::counter_shards_here() >= 1u);
  BOOST_TEST(core::counter_shards_here() <= core::counter_max_shards);
}

BOOST_AUTO_TEST_SUITE_END()
