// SPDX-License-Identifier: MIT
// Remote sessions (core/sessions.hpp): a TCP connection's holdings are held under a
// session the segment judges itself, no process standing for it; an ended session's
// holder is dead as a SIGKILLed process is; an adopting manager ends the sessions of
// the one that died.
#include "mpstate/core/sessions.hpp"

#include <boost/test/unit_test.hpp>

#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "test_support.hpp"

using namespace mpstate;
using core::value_type;
using test::error_of;

BOOST_AUTO_TEST_SUITE(sessions)

BOOST_AUTO_TEST_CASE(an_ended_sessions_lock_is_freed_and_its_loop_fails) {
  test::scratch_segment s;
  auto& lock = *s.segment->create_variable("l", value_type::lock, 0, [](auto& r) { core::init_sync(r, nullptr); });
  auto& loop = *s.segment->create_variable("loop", value_type::loop);
  const core::process_identity session = s.segment->open_session();
  BOOST_TEST(session.pid < 0);
  BOOST_TEST(core::holder_alive(s.segment->header(), session));
  BOOST_TEST(core::try_acquire(lock, {session, 0}).acquired);
  core::mark_loop(loop, core::loop_phase::starting, session);
  BOOST_TEST(!core::evict_dead_holders(lock));  // alive: kept
  s.segment->end_session(session);
  BOOST_TEST(!core::holder_alive(s.segment->header(), session));
  BOOST_TEST(core::evict_dead_holders(lock));
  const auto next = core::try_acquire(lock, {core::self_identity(), 0});
  BOOST_TEST(next.acquired);
  BOOST_TEST(next.previous_owner_died);
  BOOST_TEST(core::fail_loop_if_owner_dead(loop));
  BOOST_TEST(std::string(core::read_loop(loop).reason).find("TCP session") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_reused_slot_is_another_session) {
  test::scratch_segment s;
  std::vector<core::process_identity> open;
  for (std::uint32_t i = 0; i < s.segment->header().session_capacity; ++i) open.push_back(s.segment->open_session());
  BOOST_TEST((error_of([&] { s.segment->open_session(); }) == errc::too_many_connections));
  s.segment->end_session(open[7]);
  const core::process_identity again = s.segment->open_session();
  BOOST_TEST(again.pid == open[7].pid);                // the slot...
  BOOST_TEST(again.start_time != open[7].start_time);  // ...but not the session
  BOOST_TEST(!core::holder_alive(s.segment->header(), open[7]));
  BOOST_TEST(core::holder_alive(s.segment->header(), again));
}

BOOST_AUTO_TEST_CASE(an_adopting_manager_ends_the_sessions_of_the_one_that_died) {
  test::scratch_segment s;
  const core::process_identity session = s.segment->open_session();
  auto adopted = core::owned_segment::create_or_adopt(s.name, 1 << 20);  // as a restarted manager would
  BOOST_TEST(adopted->adopted());
  BOOST_TEST(!core::holder_alive(adopted->header(), session));
  BOOST_TEST(!core::holder_alive(adopted->header(), {-100000, 1}));  // past the table: nobody
}

BOOST_AUTO_TEST_SUITE_END()
