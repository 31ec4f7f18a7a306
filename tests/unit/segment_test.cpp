// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mpstate/core/binding_ledger.hpp"
#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using core::json;
using core::value_type;

using test::error_of;

BOOST_AUTO_TEST_SUITE(segment)

// A manager makes its object, then reserves every page (milliseconds for a large
// segment, the size 0 until then): a client that opens it in between is told a
// manager is starting (manager_unavailable, so it tries again), not that the segment
// is foreign (layout_mismatch, which a shared Manager's workers took as fatal).
BOOST_AUTO_TEST_CASE(an_object_not_sized_yet_is_a_manager_starting) {
  const std::string shm = "mpstate-unsized-" + std::to_string(::getpid());
  const int fd = ::shm_open(("/" + shm).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  BOOST_REQUIRE(fd >= 0);
  ::fchmod(fd, 0600);
  ::close(fd);
  BOOST_TEST((error_of([&] { core::segment::open(shm); }) == errc::manager_unavailable));
  ::shm_unlink(("/" + shm).c_str());
}

BOOST_AUTO_TEST_CASE(created_variables_are_found_by_name_with_zero_values) {
  test::scratch_segment s;
  auto* counter = s.segment->create_variable("jobs/done", value_type::int64);
  auto* text = s.segment->create_variable("jobs/name", value_type::string, 16);
  BOOST_TEST(s.segment->find("jobs/done") == counter);
  BOOST_TEST(s.segment->find("jobs/name") == text);
  BOOST_TEST(s.segment->find("jobs/none") == nullptr);
  BOOST_TEST(core::load_scalar<std::int64_t>(*counter) == 0);
  BOOST_TEST(core::read_json_value(*text) == json(""));
  BOOST_TEST(core::read_json_value(*s.segment->create_variable("j", value_type::json)).is_null());
  BOOST_TEST(s.segment->list("jobs/").size() == 2u);
  BOOST_TEST(s.segment->list().size() == 3u);
}

BOOST_AUTO_TEST_CASE(duplicate_and_invalid_names_are_refused) {
  test::scratch_segment s;
  s.segment->create_variable("a", value_type::int64);
  BOOST_TEST((error_of([&] { s.segment->create_variable("a", value_type::boolean); }) == errc::already_exists));
  BOOST_TEST((error_of([&] { s.segment->create_variable("a/../b", value_type::int64); }) == errc::invalid_name));
  BOOST_TEST((error_of([&] { s.segment->create_variable("", value_type::int64); }) == errc::invalid_name));
}

BOOST_AUTO_TEST_CASE(writes_commit_versions_and_refuse_what_does_not_fit) {
  test::scratch_segment s;
  auto* r = s.segment->create_variable("s", value_type::string, 8);
  core::write_json_value(*r, "12345678");
  BOOST_TEST(r->version.load() == 1u);
  BOOST_TEST((error_of([&] { core::write_json_value(*r, "123456789"); }) == errc::value_too_large));
  BOOST_TEST(core::read_json_value(*r) == json("12345678"));  // the old value stands
  BOOST_TEST((error_of([&] { core::write_json_value(*r, 5); }) == errc::type_mismatch));
  BOOST_TEST(r->version.load() == 1u);
}

BOOST_AUTO_TEST_CASE(integer_adds_refuse_to_overflow) {
  test::scratch_segment s;
  auto* r = s.segment->create_variable("i", value_type::int64);
  core::store_scalar<std::int64_t>(*r, INT64_MAX - 1);
  BOOST_TEST(core::add_scalar<std::int64_t>(*r, 1) == INT64_MAX);
  BOOST_TEST((error_of([&] { core::add_scalar<std::int64_t>(*r, 1); }) == errc::out_of_range));
  auto* u = s.segment->create_variable("u", value_type::uint64);
  BOOST_TEST((error_of([&] { core::add_json_value(*u, -1); }) == errc::out_of_range));
  auto* str = s.segment->create_variable("str", value_type::string);
  BOOST_TEST((error_of([&] { core::add_json_value(*str, 1); }) == errc::type_mismatch));
}

BOOST_AUTO_TEST_CASE(compare_exchange_stores_only_on_a_match) {
  test::scratch_segment s;
  auto* r = s.segment->create_variable("c", value_type::int64);
  std::int64_t expected = 5;
  BOOST_TEST(!core::compare_exchange_scalar<std::int64_t>(*r, expected, 7));
  BOOST_TEST(expected == 0);
  BOOST_TEST(core::compare_exchange_scalar<std::int64_t>(*r, expected, 7));
  BOOST_TEST(core::load_scalar<std::int64_t>(*r) == 7);
  auto* t = s.segment->create_variable("t", value_type::string);
  BOOST_TEST(core::compare_exchange_json_value(*t, "x", "y")["ok"] == false);
  BOOST_TEST(core::compare_exchange_json_value(*t, "", "y")["ok"] == true);
  BOOST_TEST(core::read_json_value(*t) == json("y"));
}

BOOST_AUTO_TEST_CASE(the_name_table_fills_then_deleting_makes_room) {
  test::scratch_segment s(256 * 1024);
  const std::size_t name_capacity = s.segment->header().directory_capacity / 4 * 3;
  std::size_t made = 0;
  errc last = errc::ok;
  while (last == errc::ok) {
    last = error_of([&] { s.segment->create_variable("v" + std::to_string(made), value_type::int64); });
    if (last == errc::ok) ++made;
  }
  BOOST_TEST((last == errc::segment_full));
  BOOST_TEST(made == name_capacity);  // the names ran out before the heap did
  BOOST_TEST(s.segment->free_bytes() > 10000u);
  s.segment->delete_variable("v0");
  BOOST_CHECK_NO_THROW(s.segment->create_variable("again", value_type::int64));
  for (std::size_t i = 1; i < made; ++i) BOOST_TEST(s.segment->find("v" + std::to_string(i)) != nullptr);
}

BOOST_AUTO_TEST_CASE(a_full_heap_is_segment_full_and_deleting_makes_room) {
  test::scratch_segment s(256 * 1024);
  std::size_t made = 0;
  errc last = errc::ok;
  while (last == errc::ok) {
    last = error_of([&] { s.segment->create_variable("big" + std::to_string(made), value_type::bytes, 20000); });
    if (last == errc::ok) ++made;
  }
  BOOST_TEST((last == errc::segment_full));
  BOOST_TEST(made > 3u);
  s.segment->delete_variable("big0");
  BOOST_CHECK_NO_THROW(s.segment->create_variable("big-again", value_type::bytes, 20000));
}

BOOST_AUTO_TEST_CASE(a_deleted_record_is_freed_only_after_its_last_binding) {
  test::scratch_segment s;
  s.segment->create_variable("d", value_type::int64);
  core::variable_record* bound = s.segment->find("d", /*bind=*/true);
  s.segment->delete_variable("d");
  BOOST_TEST(s.segment->find("d") == nullptr);
  BOOST_TEST((error_of([&] { core::load_scalar<std::int64_t>(*bound); }) == errc::not_found));
  BOOST_TEST(s.segment->retired_count() == 1u);
  BOOST_TEST(s.segment->free_unbound_records() == 0u);
  core::segment::unbind(bound);
  BOOST_TEST(s.segment->free_unbound_records() == 1u);
  BOOST_TEST((error_of([&] { s.segment->delete_variable("d"); }) == errc::not_found));
}

BOOST_AUTO_TEST_CASE(the_ledger_names_each_binding_process_and_a_sweep_gives_back_only_the_dead) {
  test::scratch_segment s;
  s.segment->create_variable("l", value_type::int64);
  core::variable_record* r = s.segment->find("l", /*bind=*/true);
  s.segment->find("l", /*bind=*/true);
  const std::uint64_t me = core::binder_key(getpid(), core::process_start_time(getpid()));
  BOOST_TEST(r->binder_key[0].load() == me);
  BOOST_TEST(r->binder_count[0].load() == 2u);
  // A process that is gone (pid 0x3fffff is above any pid_max) held three.
  r->bind_count += 3;
  r->binder_key[1] = core::binder_key(0x3fffff, 12345);
  r->binder_count[1] = 3;
  s.segment->delete_variable("l");
  BOOST_TEST(s.segment->reclaim_dead_bindings(false) == 3u);
  BOOST_TEST(r->bind_count.load() == 2u);
  BOOST_TEST(r->binder_key[1].load() == 0u);
  BOOST_TEST(s.segment->free_unbound_records() == 0u);  // ours still hold it
  core::segment::unbind(r);
  core::segment::unbind(r);
  BOOST_TEST(r->binder_key[0].load() == 0u);  // freed for other processes
  BOOST_TEST(s.segment->bindings_reclaimed() == 3u);
  BOOST_TEST(s.segment->free_unbound_records() == 1u);
}

// The manager looks at every record's ledger only when one may hold a dead process:
// a ledger entry was claimed since its last look, or a process that look found ended.
// At 10 M records a look takes a second of the event loop.
BOOST_AUTO_TEST_CASE(the_sweep_of_every_ledger_runs_only_when_one_may_hold_a_dead_process) {
  test::scratch_segment s;
  s.segment->create_variable("a", value_type::int64);
  s.segment->create_variable("b", value_type::int64);
  core::variable_record* mine = s.segment->find("a", /*bind=*/true);
  BOOST_TEST(s.segment->reclaim_dead_bindings(true) == 0u);
  BOOST_TEST(s.segment->full_sweeps() == 1u);
  BOOST_TEST(s.segment->reclaim_dead_bindings(true) == 0u);
  BOOST_TEST(s.segment->full_sweeps() == 1u);  // nothing claimed, we live

  // A child binds "b" and exits holding it: its claim alone makes the next sweep run.
  pid_t child = fork();
  if (child == 0) {
    s.segment->find("b", /*bind=*/true);
    _exit(0);
  }
  BOOST_REQUIRE(child > 0);
  BOOST_REQUIRE(waitpid(child, nullptr, 0) == child);
  BOOST_TEST(s.segment->reclaim_dead_bindings(true) == 1u);
  BOOST_TEST(s.segment->full_sweeps() == 2u);
  BOOST_TEST(s.segment->find("b")->bind_count.load() == 0u);
  BOOST_TEST(s.segment->reclaim_dead_bindings(true) == 0u);
  BOOST_TEST(s.segment->full_sweeps() == 2u);

  // A child found alive by a sweep, killed after it: its death alone makes one run.
  int ready[2];
  BOOST_REQUIRE(pipe(ready) == 0);
  child = fork();
  if (child == 0) {
    s.segment->find("b", /*bind=*/true);
    [[maybe_unused]] auto n = write(ready[1], "x", 1);
    pause();
    _exit(0);
  }
  BOOST_REQUIRE(child > 0);
  char byte = 0;
  BOOST_REQUIRE(read(ready[0], &byte, 1) == 1);
  BOOST_TEST(s.segment->reclaim_dead_bindings(true) == 0u);  // alive: kept
  BOOST_TEST(s.segment->full_sweeps() == 3u);
  BOOST_TEST(s.segment->reclaim_dead_bindings(true) == 0u);
  BOOST_TEST(s.segment->full_sweeps() == 3u);
  kill(child, SIGKILL);
  BOOST_REQUIRE(waitpid(child, nullptr, 0) == child);
  BOOST_TEST(s.segment->reclaim_dead_bindings(true) == 1u);
  BOOST_TEST(s.segment->full_sweeps() == 4u);
  close(ready[0]);
  close(ready[1]);
  core::segment::unbind(mine);
}

BOOST_AUTO_TEST_CASE(name_churn_leaves_a_bounded_number_of_tombstones_and_a_whole_heap) {
  test::scratch_segment s;
  const std::uint64_t fresh_free = s.segment->free_bytes();
  const auto& h = s.segment->header();
  std::uint32_t most_tombstones = 0;
  for (int i = 0; i < 100'000; ++i) {  // 100 live names, each cycle a new one
    s.segment->create_variable("churn/" + std::to_string(i), value_type::int64);
    if (i >= 100) s.segment->delete_variable("churn/" + std::to_string(i - 100));
    most_tombstones = std::max(most_tombstones, h.directory_tombstones);
  }
  BOOST_TEST(most_tombstones <= h.directory_capacity / 8 + 1);
  BOOST_TEST(h.directory_used == 100u);
  BOOST_TEST(s.segment->find("churn/99999") != nullptr);
  BOOST_TEST(s.segment->find("churn/99899") == nullptr);
  BOOST_TEST(s.segment->list_names("churn/").size() == 100u);
  for (int i = 99'900; i < 100'000; ++i) s.segment->delete_variable("churn/" + std::to_string(i));
  BOOST_TEST(s.segment->free_bytes() == fresh_free);  // every block came back, merged
}

BOOST_AUTO_TEST_CASE(an_adopted_segment_keeps_every_value) {
  test::scratch_segment s;
  core::write_json_value(*s.segment->create_variable("n", value_type::int64), 42);
  core::write_json_value(*s.segment->create_variable("t", value_type::string), "kept");
  s.segment.reset();  // as if the manager died: the segment stays
  auto adopted = core::owned_segment::create_or_adopt(s.name, 1 << 20);
  BOOST_TEST(adopted->adopted());
  BOOST_TEST(core::read_json_value(*adopted->find("n")) == json(42));
  BOOST_TEST(core::read_json_value(*adopted->find("t")) == json("kept"));
  BOOST_CHECK_NO_THROW(adopted->create_variable("new", value_type::int64));
  s.segment = std::move(adopted);
}

BOOST_AUTO_TEST_CASE(a_foreign_header_is_refused_not_wiped) {
  test::scratch_segment s;
  s.segment->header().magic = 0x1234;
  std::string name = s.name;
  s.segment.reset();
  try {
    core::owned_segment::create_or_adopt(name, 1 << 20);
    BOOST_FAIL("expected layout_mismatch");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::layout_mismatch));
  }
  // A client refuses it too, and a missing segment is not_found.
  BOOST_TEST((error_of([&] { core::segment::open(name); }) == errc::layout_mismatch));
  BOOST_TEST((error_of([&] { core::segment::open(name + "-absent"); }) == errc::not_found));
  shm_unlink(("/" + name).c_str());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loop_owner)

BOOST_AUTO_TEST_CASE(a_recycled_pid_is_not_taken_for_the_owner_that_died) {
  test::scratch_segment s;
  const core::process_identity me = core::self_identity();
  // Our pid with another start time: the owner died and its pid went to a new process.
  auto* recycled = s.segment->create_variable("recycled", value_type::loop);
  core::mark_loop(*recycled, core::loop_phase::starting, {me.pid, me.start_time + 1});
  BOOST_TEST(core::fail_loop_if_owner_dead(*recycled));
  auto snapshot = core::read_loop(*recycled);
  BOOST_TEST((snapshot.phase == core::loop_phase::failed));
  BOOST_TEST(std::string(snapshot.reason) == "owner process " + std::to_string(me.pid) + " died");
  // The same pid with its true start time is alive: left alone.
  auto* live = s.segment->create_variable("live", value_type::loop);
  core::mark_loop(*live, core::loop_phase::starting, me);
  BOOST_TEST(!core::fail_loop_if_owner_dead(*live));
  BOOST_TEST((core::read_loop(*live).phase == core::loop_phase::starting));
}

BOOST_AUTO_TEST_SUITE_END()
