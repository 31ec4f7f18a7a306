// SPDX-License-Identifier: MIT
// core/queue_ops in isolation: FIFO order, a bounded queue that refuses when full, an
// unbounded one that asks to grow, items too large, and the task count.
#include "mpstate/core/queue_ops.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using core::json;
using core::value_type;
using test::error_of;

namespace {
core::variable_record& queue(test::scratch_segment& s, const char* name, const json& shape) {
  const core::queue_spec spec = core::queue_spec_from_json(name, shape);
  core::variable_record* r = s.segment->create_variable(name, value_type::queue, core::queue_capacity(spec));
  core::init_queue(*r, spec);
  return *r;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(queue_ops)

BOOST_AUTO_TEST_CASE(items_come_out_in_the_order_they_went_in) {
  test::scratch_segment s;
  auto& q = queue(s, "q", {{"maxsize", 8}, {"item_size", 16}});
  for (const char* item : {"a", "bb", "ccc"}) BOOST_TEST(core::try_put(q, item).done);
  std::string out;
  for (const char* item : {"a", "bb", "ccc"}) {
    BOOST_TEST(core::try_get(q, out).done);
    BOOST_TEST(out == item);
  }
  const core::queue_attempt empty = core::try_get(q, out);
  BOOST_TEST(!empty.done);
  BOOST_TEST(empty.version == q.version.load());  // the version a blocked get waits out
}

BOOST_AUTO_TEST_CASE(a_bounded_queue_refuses_when_full_and_an_unbounded_one_asks_to_grow) {
  test::scratch_segment s;
  auto& bounded = queue(s, "b", {{"maxsize", 2}, {"item_size", 8}});
  BOOST_TEST(core::try_put(bounded, "1").done);
  BOOST_TEST(core::try_put(bounded, "2").done);
  BOOST_TEST(!core::try_put(bounded, "3").done);
  BOOST_TEST((error_of([&] { core::try_put(bounded, std::string(9, 'x')); }) == errc::value_too_large));
  auto& unbounded = queue(s, "u", {{"item_size", 8}});
  const std::uint64_t slots = core::read_queue(unbounded).slots;
  for (std::uint64_t i = 0; i < slots; ++i) BOOST_REQUIRE(core::try_put(unbounded, "x").done);
  bool asked_to_grow = false;
  try {
    core::try_put(unbounded, "x");
  } catch (const core::buffer_too_small&) {
    asked_to_grow = true;
  }
  BOOST_TEST(asked_to_grow);
  BOOST_TEST(core::read_queue(unbounded).size == slots);  // nothing was lost or added
}

BOOST_AUTO_TEST_CASE(task_done_counts_down_what_was_put_and_refuses_one_too_many) {
  test::scratch_segment s;
  auto& q = queue(s, "j", {{"maxsize", 4}, {"item_size", 8}});
  core::try_put(q, "a");
  core::try_put(q, "b");
  BOOST_TEST(!core::all_tasks_done(q).done);
  std::string out;
  core::try_get(q, out);
  BOOST_TEST(core::task_done(q) == 1u);
  core::try_get(q, out);
  BOOST_TEST(core::task_done(q) == 0u);
  BOOST_TEST(core::all_tasks_done(q).done);
  BOOST_TEST((error_of([&] { core::task_done(q); }) == errc::invalid_argument));
  const core::queue_counts counts = core::read_queue(q);
  BOOST_TEST(counts.puts == 2u);
  BOOST_TEST(counts.gets == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
