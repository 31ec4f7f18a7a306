// SPDX-License-Identifier: MIT
// The metrics text (shared/core/metrics): the `metrics` op over a scratch segment,
// and the text format's rules (label escaping, cumulative buckets, the cap).
#include "mpstate/core/metrics.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "handler_fixture.hpp"

using namespace mpstate;
using core::json;

namespace {
bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (l == line) return true;
  }
  return false;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(metrics, test::handler_fixture)

BOOST_AUTO_TEST_CASE(the_op_counts_types_and_describes_loops_queues_and_locks) {
  result({{"op", "set"}, {"name", "n"}, {"value", 5}});
  result({{"op", "create"}, {"name", "lp"}, {"type", "loop"}});
  result({{"op", "loop_mark"}, {"name", "lp"}, {"state", "starting"}});
  result({{"op", "loop_mark"}, {"name", "lp"}, {"state", "running"}});
  result({{"op", "create"}, {"name", "q"}, {"type", "queue"}, {"value", {{"of", "int64"}, {"maxsize", 4}}}});
  result({{"op", "queue_put"}, {"name", "q"}, {"value", 1}});
  result({{"op", "queue_put"}, {"name", "q"}, {"value", 2}});
  result({{"op", "create"}, {"name", "lk"}, {"type", "lock"}});
  result({{"op", "acquire"}, {"name", "lk"}});
  line(R"({"op":"get","name":"n"})");  // one line through the timed entry
  const std::string text = result({{"op", "metrics"}})["text"].get<std::string>();
  BOOST_TEST(has_line(text, R"(mpstate_variables{type="int64"} 1)"));
  BOOST_TEST(has_line(text, R"(mpstate_variables{type="queue"} 1)"));
  BOOST_TEST(has_line(text, R"(mpstate_loop_state{name="lp",state="running"} 1)"));
  BOOST_TEST(has_line(text, R"(mpstate_loop_state{name="lp",state="idle"} 0)"));
  BOOST_TEST(has_line(text, R"(mpstate_queue_depth{name="q"} 2)"));
  BOOST_TEST(has_line(text, R"(mpstate_queue_puts_total{name="q"} 2)"));
  BOOST_TEST(has_line(text, R"(mpstate_lock_held{name="lk",type="lock"} 1)"));
  BOOST_TEST(has_line(text, R"(mpstate_series_omitted{kind="lock"} 0)"));
  BOOST_TEST(has_line(text, R"(mpstate_request_duration_seconds_bucket{le="+Inf"} 1)"));
  BOOST_TEST(has_line(text, R"(mpstate_request_duration_seconds_count 1)"));
  BOOST_TEST(has_line(text, "# TYPE mpstate_request_duration_seconds histogram"));
  // The kept records were bound for the sample and unbound after it.
  BOOST_TEST(result({{"op", "stat"}})["bindings"] == 0);
}

BOOST_AUTO_TEST_CASE(labels_are_escaped_and_buckets_are_cumulative) {
  const json stat = {
      {"manager", "a\"b\\c\nd"},
      {"latency", {{"bounds_seconds", {0.001, 0.01}}, {"counts", {2, 3, 4}}, {"count", 9}, {"sum_seconds", 0.5}}}};
  const json dump = {{"variables", json::array({{{"name", "x"}, {"type", "int64"}, {"value", 1}}})}};
  const std::string text = core::prometheus_text(stat, dump);
  BOOST_TEST(has_line(text, R"(mpstate_info{manager="a\"b\\c\nd"} 1)"));
  BOOST_TEST(has_line(text, R"(mpstate_request_duration_seconds_bucket{le="0.001"} 2)"));
  BOOST_TEST(has_line(text, R"(mpstate_request_duration_seconds_bucket{le="0.01"} 5)"));
  BOOST_TEST(has_line(text, R"(mpstate_request_duration_seconds_bucket{le="+Inf"} 9)"));
  BOOST_TEST(has_line(text, R"(mpstate_variables{type="int64"} 1)"));        // a dump: counted from its variables
  BOOST_TEST(text.find("mpstate_segment_size_bytes") == std::string::npos);  // no field, no series
}

BOOST_AUTO_TEST_CASE(past_the_cap_a_kind_is_counted_not_listed) {
  json locks = json::array();
  for (std::size_t i = 0; i < core::metrics_series_cap + 2; ++i) {
    locks.push_back(
        {{"name", "l" + std::to_string(i)}, {"type", "lock"}, {"last_write_ns", 0}, {"value", {{"locked", false}}}});
  }
  const std::string text = core::prometheus_text(json::object(), {{"variables", locks}});
  BOOST_TEST(has_line(text, R"(mpstate_series_omitted{kind="lock"} 2)"));
  BOOST_TEST(has_line(text, R"(mpstate_variables{type="lock"} 1002)"));
}

BOOST_AUTO_TEST_SUITE_END()
