// SPDX-License-Identifier: MIT
// The fenced-write checks every channel must pass (fence_test.cpp: the mapped segment
// and the socket; redis_ownership_test.cpp: Redis): a fence works while its holding
// lasts, and once it ended every fenced op is refused with ownership_lost and changes
// nothing; bad fences are clear errors.
#pragma once

#include <boost/test/unit_test.hpp>

#include "process_fixture.hpp"

namespace mpstate::test {
inline void a_stale_fence_is_refused_and_changes_nothing(Client& c) {
  auto lock = c.lock("f/lock");
  auto n = c.value_or_create<std::int64_t>("f/n", 0);
  auto text = c.value_or_create<std::string>("f/s", "");
  Fence first;
  {
    LockGuard guard(lock);
    first = guard.fence();
    BOOST_REQUIRE(first);
    BOOST_TEST(first.lock() == "f/lock");
    n.set(1, first);
    BOOST_TEST(n.add(1, first) == 2);
    std::int64_t expected = 2;
    BOOST_TEST(n.compare_exchange(expected, 3, first));
    BOOST_TEST(n.update([](std::int64_t x) { return x + 1; }, first) == 4);
    text.set("under the lock", first);
  }
  // Released: the holding ended, and every fenced op is refused, changing nothing.
  BOOST_TEST((error_of([&] { n.set(100, first); }) == errc::ownership_lost));
  BOOST_TEST((error_of([&] { n.add(100, first); }) == errc::ownership_lost));
  std::int64_t expected = 4;
  BOOST_TEST((error_of([&] { n.compare_exchange(expected, 100, first); }) == errc::ownership_lost));
  BOOST_TEST((error_of([&] { text.set("stale", first); }) == errc::ownership_lost));
  BOOST_TEST(n.get() == 4);
  BOOST_TEST(text.get() == "under the lock");
  // Another holding has a larger epoch; the old fence stays refused under it.
  auto second = lock.acquire();
  BOOST_TEST(second.fence > first.epoch());
  BOOST_TEST((error_of([&] { n.add(1, first); }) == errc::ownership_lost));
  BOOST_TEST(n.add(1, lock.fence()) == 5);
  lock.release();
  // A fence is named by its lock and epoch: one sent by another process works too.
  const auto third = lock.acquire();
  BOOST_TEST(n.add(1, Fence("f/lock", third.fence)) == 6);
  lock.release();
  BOOST_TEST((error_of([&] { n.set(0, Fence("f/lock", third.fence)); }) == errc::ownership_lost));
  BOOST_TEST((error_of([&] { n.set(0, Fence()); }) == errc::invalid_argument));
  BOOST_TEST((error_of([&] { n.set(0, Fence("f/nolock", 1)); }) == errc::ownership_lost));
  BOOST_TEST((error_of([&] { n.set(0, Fence("f/s", 1)); }) == errc::type_mismatch));     // not a lock
  BOOST_TEST((error_of([&] { n.set(0, Fence("f/n", 1)); }) == errc::invalid_argument));  // itself
}

}  // namespace mpstate::test
