// SPDX-License-Identifier: MIT
// core/sync_ops in isolation, on a scratch segment in this process: who may acquire
// and release, the epochs every fresh holding gets and the stale ones refused, the
// eviction of a holder whose process is gone, and a state committed shorter than
// today's (a snapshot's) read back whole.
#include "mpstate/core/sync_ops.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using core::json;
using core::sync_actor;
using core::value_type;
using test::error_of;

namespace {

core::variable_record& made(test::scratch_segment& s, const char* name, value_type type, const json& initial = {}) {
  core::variable_record* r = s.segment->create_variable(name, type);
  core::init_sync(*r, initial);
  return *r;
}

// An actor whose process has ended: a child that exited and was reaped.
sync_actor dead_actor() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  const core::process_identity identity{child, core::process_start_time(child)};
  ::waitpid(child, nullptr, 0);
  return {identity, 0};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sync_ops)

BOOST_AUTO_TEST_CASE(a_lock_has_one_holder_and_each_holding_a_new_epoch) {
  test::scratch_segment s;
  auto& lock = made(s, "l", value_type::lock);
  const sync_actor me{core::self_identity(), 1}, other{core::self_identity(), 2};
  const core::acquire_outcome first = core::try_acquire(lock, me);
  BOOST_TEST(first.acquired);
  BOOST_TEST(first.fence != 0u);
  BOOST_TEST(!core::try_acquire(lock, other).acquired);  // a lock is the process's: held is held
  BOOST_TEST(core::release(lock, me, first.fence) == 0u);
  const core::acquire_outcome second = core::try_acquire(lock, other);
  BOOST_TEST(second.acquired);
  BOOST_TEST(second.fence > first.fence);
  // the first holding's release comes late: refused, and the second holding stands
  BOOST_TEST((error_of([&] { core::release(lock, me, first.fence); }) == errc::ownership_lost));
  BOOST_TEST(core::sync_to_json(lock)["locked"] == true);
  BOOST_TEST(core::release(lock, other, second.fence) == 0u);
  BOOST_TEST((error_of([&] { core::release(lock, other); }) == errc::invalid_argument));  // not held
}

BOOST_AUTO_TEST_CASE(an_events_flag_reads_without_the_lock_as_the_state_says) {
  test::scratch_segment s;
  auto& event = made(s, "e", value_type::event);
  BOOST_TEST(core::sync_value_unlocked(event) == 0);
  core::set_event(event, true);
  BOOST_TEST(core::sync_value_unlocked(event) == 1);
  BOOST_TEST(core::sync_to_json(event)["set"] == true);
  {
    core::robust_lock held(event.mutex);  // a holder of the lock delays no reader
    BOOST_TEST(core::sync_value_unlocked(event) == 1);
  }
  core::set_event(event, false);
  BOOST_TEST(core::sync_value_unlocked(event) == 0);
  auto& plain = *s.segment->create_variable("n", value_type::int64, 0);
  BOOST_TEST((error_of([&] { core::sync_value_unlocked(plain); }) == errc::type_mismatch));
}

BOOST_AUTO_TEST_CASE(an_rlock_counts_its_threads_depth_and_refuses_other_threads) {
  test::scratch_segment s;
  auto& rlock = made(s, "r", value_type::rlock);
  const sync_actor owner{core::self_identity(), 7}, stranger{core::self_identity(), 8};
  const auto fence = core::try_acquire(rlock, owner).fence;
  BOOST_TEST(core::try_acquire(rlock, owner).fence == fence);  // depth 2, the same holding
  BOOST_TEST(!core::try_acquire(rlock, stranger).acquired);
  BOOST_TEST((error_of([&] { core::release(rlock, stranger); }) == errc::invalid_argument));
  BOOST_TEST(core::release(rlock, owner) == 1u);
  BOOST_TEST(core::release(rlock, owner) == 0u);
  BOOST_TEST(core::try_acquire(rlock, stranger).acquired);
}

BOOST_AUTO_TEST_CASE(semaphores_count_permits_and_a_bounded_one_refuses_extra_releases) {
  test::scratch_segment s;
  auto& sem = made(s, "s", value_type::semaphore, 2);
  auto& bounded = made(s, "b", value_type::bounded_semaphore, 1);
  const sync_actor me{core::self_identity(), 0};
  BOOST_TEST(core::try_acquire(sem, me).acquired);
  BOOST_TEST(core::try_acquire(sem, me).acquired);
  BOOST_TEST(!core::try_acquire(sem, me).acquired);
  core::release(sem, me);
  core::release(sem, me);
  core::release(sem, me);  // a plain semaphore takes releases beyond its start, as Python's
  BOOST_TEST(core::sync_to_json(sem)["value"] == 3);
  BOOST_TEST((error_of([&] { core::release(bounded, me); }) == errc::invalid_argument));
  BOOST_TEST(core::try_acquire(bounded, me).acquired);
  core::release(bounded, me);
  BOOST_TEST(core::sync_to_json(bounded)["value"] == 1);
}

BOOST_AUTO_TEST_CASE(a_dead_holder_is_evicted_and_the_next_acquirer_told) {
  test::scratch_segment s;
  auto& lock = made(s, "l", value_type::lock);
  const sync_actor gone = dead_actor();
  BOOST_REQUIRE(core::try_acquire(lock, gone).acquired);
  const sync_actor me{core::self_identity(), 0};
  BOOST_TEST(!core::try_acquire(lock, me).acquired);
  BOOST_TEST(core::evict_dead_holders(lock));
  BOOST_TEST(!core::evict_dead_holders(lock));  // nothing left to evict
  const core::acquire_outcome got = core::try_acquire(lock, me);
  BOOST_TEST(got.acquired);
  BOOST_TEST(got.previous_owner_died);
  BOOST_TEST(!core::try_acquire(lock, me).previous_owner_died);  // told once
}

BOOST_AUTO_TEST_CASE(a_fenced_write_is_made_only_while_its_holding_lasts) {
  test::scratch_segment s;
  auto& lock = made(s, "l", value_type::lock);
  auto* value = s.segment->create_variable("v", value_type::int64);
  const sync_actor me{core::self_identity(), 0};
  const auto fence = core::try_acquire(lock, me).fence;
  core::fenced(lock, fence, *value, [&] { core::store_scalar<std::int64_t>(*value, 1); });
  core::release(lock, me, fence);
  BOOST_TEST((error_of([&] {
                core::fenced(lock, fence, *value, [&] { core::store_scalar<std::int64_t>(*value, 2); });
              }) == errc::ownership_lost));
  BOOST_TEST(core::load_scalar<std::int64_t>(*value) == 1);  // the stale write changed nothing
  BOOST_TEST((error_of([&] { core::fenced(lock, fence, lock, [] {}); }) == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(a_state_committed_shorter_reads_with_its_first_holder_zeroed) {
  test::scratch_segment s;
  auto& lock = made(s, "l", value_type::lock);
  const sync_actor me{core::self_identity(), 0};
  const auto fence = core::try_acquire(lock, me).fence;
  core::release(lock, me, fence);
  // As a state saved before the fixed-size commits: the fixed part only, no holder.
  core::sync_state state = core::read_sync(lock);
  {
    core::locked_record held(lock);
    core::write_committed_bytes(
        lock, std::string_view(reinterpret_cast<const char*>(&state), offsetof(core::sync_state, holders)));
    held.commit();
  }
  const core::acquire_outcome again = core::try_acquire(lock, me);
  BOOST_TEST(again.acquired);
  BOOST_TEST(again.fence > fence);  // the epoch lives in the fixed part: kept
  BOOST_TEST(core::sync_to_json(lock)["holder_pid"] == core::self_identity().pid);
}

BOOST_AUTO_TEST_SUITE_END()
