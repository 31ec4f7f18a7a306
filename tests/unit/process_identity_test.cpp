// SPDX-License-Identifier: MIT
// core/process_identity's readings of /proc: this process's CPU time grows as it
// works, and a process that does not exist reads as such.
#include "mpstate/core/process_identity.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>

using namespace mpstate;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(process_identity)

BOOST_AUTO_TEST_CASE(the_cpu_time_of_a_process_grows_by_what_it_spends) {
  const pid_t self = ::getpid();
  const milliseconds before = core::process_cpu_time(self);
  BOOST_TEST(before.count() >= 0);
  const auto wall_start = steady_clock::now();
  volatile std::uint64_t sink = 0;
  while (core::process_cpu_time(self) - before < 200ms) {  // spends CPU until /proc says so
    for (int i = 0; i < 1'000'000; ++i) sink = sink + static_cast<std::uint64_t>(i);
    BOOST_REQUIRE(steady_clock::now() - wall_start < 20s);
  }
  // Counted, and not more than the wall time it took (one thread spinning).
  BOOST_TEST(
      (duration_cast<milliseconds>(steady_clock::now() - wall_start) + 20ms >= core::process_cpu_time(self) - before));
}

BOOST_AUTO_TEST_CASE(a_process_that_is_gone_has_no_cpu_time_and_no_start_time) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  BOOST_TEST(core::process_cpu_time(child).count() == -1);
  BOOST_TEST(core::process_start_time(child) == 0u);
  BOOST_TEST(core::process_start_time(::getpid()) > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
