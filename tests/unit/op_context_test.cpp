// SPDX-License-Identifier: MIT
// core::op_context on real records of a scratch segment: who a committed write is
// stamped with, a lock that may not be waited for (lock_busy, nothing committed: the
// request may be retried), a busy met after a commit (answered, never retried), and
// scopes that nest.
#include "mpstate/core/op_context.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <future>
#include <thread>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using core::value_type;
using test::error_of;

namespace {
// Holds `r`'s lock on another thread for this object's life.
class held_elsewhere {
 public:
  explicit held_elsewhere(core::variable_record& r)
      : holder_([&r, held = &held_, release = release_.get_future()]() mutable {
          r.mutex.lock();
          held->set_value();
          release.wait();
          r.mutex.unlock();
        }) {
    held_.get_future().wait();
  }
  ~held_elsewhere() {
    release_.set_value();
    holder_.join();
  }

 private:
  std::promise<void> held_;
  std::promise<void> release_;
  std::thread holder_;
};
}  // namespace

BOOST_AUTO_TEST_SUITE(op_contexts)

BOOST_AUTO_TEST_CASE(without_a_context_a_write_is_this_process_and_waits) {
  test::scratch_segment s;
  auto& r = *s.segment->create_variable("v", value_type::int64, 0);
  BOOST_TEST(core::current_op_context() == nullptr);
  BOOST_TEST(core::ops_may_wait());
  core::store_scalar<std::int64_t>(r, 5);
  BOOST_TEST(r.last_writer_pid() == ::getpid());
}

BOOST_AUTO_TEST_CASE(a_write_under_a_context_is_stamped_with_its_pid_and_marks_it_committed) {
  test::scratch_segment s;
  auto& r = *s.segment->create_variable("v", value_type::int64, 0);
  core::op_context ctx{.for_pid = 4242, .may_wait = false};
  {
    const core::op_scope scope(ctx);
    BOOST_TEST(core::load_scalar<std::int64_t>(r) == 0);  // a read commits nothing
    BOOST_TEST(!ctx.committed);
    core::store_scalar<std::int64_t>(r, 7);
  }
  BOOST_TEST(ctx.committed);
  BOOST_TEST(r.last_writer_pid() == 4242);
  BOOST_TEST(core::current_op_context() == nullptr);  // the scope is gone with its context
}

BOOST_AUTO_TEST_CASE(a_held_lock_is_busy_under_a_context_that_may_not_wait_and_the_request_may_be_retried) {
  test::scratch_segment s;
  auto& r = *s.segment->create_variable("v", value_type::string, 16);
  const held_elsewhere holder(r);
  core::op_context ctx{.for_pid = 4242, .may_wait = false};
  const core::op_scope scope(ctx);
  const errc code = error_of([&] { core::write_buffer(r, "new"); });
  BOOST_TEST((code == errc::busy));
  BOOST_TEST(!ctx.committed);
  BOOST_TEST(core::retry_later(ctx, code));
  std::string value;
  BOOST_TEST(core::read_buffer_unlocked(r, value));  // a reader that must not wait still answers
  BOOST_TEST(value.empty());
}

BOOST_AUTO_TEST_CASE(a_scalar_write_takes_no_lock_so_a_held_one_is_never_busy) {
  test::scratch_segment s;
  auto& r = *s.segment->create_variable("v", value_type::int64, 0);
  const held_elsewhere holder(r);  // as a process stopped registering a wait would
  core::op_context ctx{.for_pid = 4242, .may_wait = false};
  const core::op_scope scope(ctx);
  const std::uint64_t before = r.version.load();
  core::store_scalar<std::int64_t>(r, 5);
  BOOST_TEST(core::add_scalar<std::int64_t>(r, 2) == 7);
  std::int64_t expected = 7;
  BOOST_TEST(core::compare_exchange_scalar<std::int64_t>(r, expected, 9));
  BOOST_TEST(!core::compare_exchange_scalar<std::int64_t>(r, expected, 1));
  BOOST_TEST(expected == 9);
  BOOST_TEST(r.version.load() == before + 3);  // one per committed write, none for the refused cas
  BOOST_TEST(ctx.committed);
  BOOST_TEST(r.last_writer_pid() == 4242);
}

BOOST_AUTO_TEST_CASE(a_busy_met_after_a_commit_is_answered_never_retried) {
  test::scratch_segment s;
  auto& first = *s.segment->create_variable("first", value_type::int64, 0);
  auto& second = *s.segment->create_variable("second", value_type::string, 16);
  const held_elsewhere holder(second);
  core::op_context ctx{.may_wait = false};
  const core::op_scope scope(ctx);
  core::store_scalar<std::int64_t>(first, 1);
  const errc code = error_of([&] { core::write_buffer(second, "x"); });
  BOOST_TEST((code == errc::busy));
  BOOST_TEST(ctx.committed);
  BOOST_TEST(!core::retry_later(ctx, code));  // a retry would make the first write again
  BOOST_TEST(!core::retry_later(core::op_context{}, errc::not_found));
}

BOOST_AUTO_TEST_CASE(scopes_nest_and_the_outer_context_comes_back) {
  core::op_context loop{.may_wait = false};
  const core::op_scope on_the_loop(loop);
  {
    core::op_context request{.for_pid = 7, .may_wait = core::ops_may_wait()};
    const core::op_scope in_request(request);
    BOOST_TEST(core::current_op_context() == &request);
    BOOST_TEST(!core::ops_may_wait());  // inherited from the loop
  }
  BOOST_TEST(core::current_op_context() == &loop);
}

BOOST_AUTO_TEST_SUITE_END()
