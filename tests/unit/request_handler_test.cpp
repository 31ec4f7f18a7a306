// SPDX-License-Identifier: MIT
// The manager's request logic without sockets: every op, and every bad input
// answered with its error code.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "handler_fixture.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/value_codec.hpp"

using namespace mpstate;
using core::json;

BOOST_FIXTURE_TEST_SUITE(request_handler, test::handler_fixture)

BOOST_AUTO_TEST_CASE(a_value_over_its_capacity_grows_the_buffer_until_the_segment_is_full) {
  result({{"op", "create"}, {"name", "g"}, {"type", "string"}, {"capacity", 4}});
  const std::string big(5000, 'b');
  result({{"op", "set"}, {"name", "g"}, {"value", big}});
  json got = result({{"op", "get"}, {"name", "g"}});
  BOOST_TEST(got["value"] == big);
  BOOST_TEST(got["version"] == 2);  // the move (+1), then the write (+1)
  BOOST_TEST(result({{"op", "cas"}, {"name", "g"}, {"expected", big}, {"desired", big + big}})["ok"] == true);
  BOOST_TEST(result({{"op", "grow"}, {"name", "g"}, {"capacity", 100}})["capacity"].get<std::uint64_t>() >= 10000);
  BOOST_TEST(result({{"op", "grow"}, {"name", "g"}, {"capacity", 30000}})["capacity"] == 30000);
  // 2 MiB fits the 64M limit but not this 1 MiB segment: segment_full, the old value stays
  BOOST_TEST(error_code({{"op", "set"}, {"name", "g"}, {"value", std::string(2u << 20, 'x')}}) == "segment_full");
  BOOST_TEST(result({{"op", "get"}, {"name", "g"}})["value"] == big + big);
  result({{"op", "set"}, {"name", "n64"}, {"value", 1}});
  BOOST_TEST(error_code({{"op", "grow"}, {"name", "n64"}, {"capacity", 100}}) == "type_mismatch");
  BOOST_TEST(error_code({{"op", "grow"}, {"name", "nope"}, {"capacity", 100}}) == "not_found");
  BOOST_TEST(error_code({{"op", "grow"}, {"name", "g"}, {"capacity", -1}}) == "invalid_argument");
  BOOST_TEST(error_code({{"op", "grow"}, {"name", "g"}, {"capacity", 1ll << 40}}) == "value_too_large");
}

BOOST_AUTO_TEST_CASE(set_creates_with_the_json_type_and_get_reads_it_back) {
  result({{"op", "set"}, {"name", "n"}, {"value", 5}});
  result({{"op", "set"}, {"name", "d"}, {"value", 2.5}});
  result({{"op", "set"}, {"name", "b"}, {"value", true}});
  result({{"op", "set"}, {"name", "s"}, {"value", "text"}});
  result({{"op", "set"}, {"name", "j"}, {"value", {{"k", {1, 2}}}}});
  BOOST_TEST(result({{"op", "get"}, {"name", "n"}})["type"] == "int64");
  BOOST_TEST(result({{"op", "get"}, {"name", "d"}})["value"] == 2.5);
  BOOST_TEST(result({{"op", "get"}, {"name", "b"}})["value"] == true);
  BOOST_TEST(result({{"op", "get"}, {"name", "s"}})["value"] == "text");
  BOOST_TEST(result({{"op", "get"}, {"name", "j"}})["value"] == json({{"k", {1, 2}}}));
  BOOST_TEST(result({{"op", "list"}})["names"] == json({"b", "d", "j", "n", "s"}));
}

BOOST_AUTO_TEST_CASE(responses_echo_ids_of_every_json_type) {
  for (json id : {json(1), json("x"), json(nullptr), json::array({1}), json({{"a", 1}}), json(2.5)}) {
    json r = call({{"id", id}, {"op", "list"}});
    BOOST_TEST(r["id"] == id);
  }
}

BOOST_AUTO_TEST_CASE(create_add_cas_delete) {
  BOOST_TEST(result({{"op", "create"}, {"name", "c"}, {"type", "uint64"}, {"value", 3}})["type"] == "uint64");
  BOOST_TEST(result({{"op", "add"}, {"name", "c"}, {"delta", 4}})["value"] == 7);
  json cas = result({{"op", "cas"}, {"name", "c"}, {"expected", 1}, {"desired", 9}});
  BOOST_TEST(cas["ok"] == false);
  BOOST_TEST(cas["value"] == 7);
  BOOST_TEST(result({{"op", "cas"}, {"name", "c"}, {"expected", 7}, {"desired", 9}})["ok"] == true);
  result({{"op", "delete"}, {"name", "c"}});
  BOOST_TEST(error_code({{"op", "get"}, {"name", "c"}}) == "not_found");
  BOOST_TEST(error_code({{"op", "delete"}, {"name", "c"}}) == "not_found");
}

BOOST_AUTO_TEST_CASE(a_bad_initial_value_leaves_no_variable) {
  BOOST_TEST(error_code({{"op", "create"}, {"name", "x"}, {"type", "int64"}, {"value", "no"}}) == "type_mismatch");
  BOOST_TEST(error_code({{"op", "get"}, {"name", "x"}}) == "not_found");
}

BOOST_AUTO_TEST_CASE(bad_input_gets_its_error_code) {
  BOOST_TEST(line("{not json")["error"]["code"] == "bad_request");
  BOOST_TEST(line("[1,2]")["error"]["code"] == "bad_request");
  BOOST_TEST(line("")["error"]["code"] == "bad_request");
  const std::size_t deep = 200000;  // would overflow the stack when serialised
  BOOST_TEST(line(R"({"op":"set","name":"deep","value":)" + std::string(deep, '[') + std::string(deep, ']') +
                  "}")["error"]["code"] == "bad_request");
  BOOST_TEST(line(R"({"op":"set","name":"ok","value":"[[[[[[[[[[ in a string is fine"})").contains("result"));
  std::string nested_ok = std::string(core::max_json_depth - 1, '[') + std::string(core::max_json_depth - 1, ']');
  BOOST_TEST(line(R"({"op":"set","name":"nested","value":)" + nested_ok + "}").contains("result"));
  BOOST_TEST(error_code({{"op", "frobnicate"}}) == "unknown_op");
  BOOST_TEST(error_code({{"name", "x"}}) == "missing_field");
  BOOST_TEST(error_code({{"op", 5}}) == "bad_request");
  BOOST_TEST(error_code({{"op", "get"}}) == "missing_field");
  BOOST_TEST(error_code({{"op", "get"}, {"name", 7}}) == "bad_request");
  BOOST_TEST(error_code({{"op", "set"}, {"name", "x"}}) == "missing_field");
  BOOST_TEST(error_code({{"op", "get"}, {"name", ""}}) == "invalid_name");
  BOOST_TEST(error_code({{"op", "get"}, {"name", std::string(256, 'a')}}) == "invalid_name");
  BOOST_TEST(error_code({{"op", "set"}, {"name", "a b"}, {"value", 1}}) == "invalid_name");
  BOOST_TEST(error_code({{"op", "set"}, {"name", "a/../b"}, {"value", 1}}) == "invalid_name");
  BOOST_TEST(error_code({{"op", "create"}, {"name", "t"}, {"type", "float"}}) == "invalid_type");
  BOOST_TEST(error_code({{"op", "create"}, {"name", "t"}, {"type", "string"}, {"capacity", -1}}) == "invalid_argument");
  result({{"op", "set"}, {"name", "n"}, {"value", 1}});
  BOOST_TEST(error_code({{"op", "set"}, {"name", "n"}, {"value", "text"}}) == "type_mismatch");
  BOOST_TEST(error_code({{"op", "add"}, {"name", "n"}, {"delta", "x"}}) == "type_mismatch");
  BOOST_TEST(error_code({{"op", "add"}, {"name", "n"}, {"delta", 1.5}}) == "type_mismatch");
  BOOST_TEST(error_code({{"op", "set"}, {"name", "n"}, {"value", 18446744073709551615ull}}) == "out_of_range");
  BOOST_TEST(error_code({{"op", "create"}, {"name", "n"}, {"type", "int64"}}) == "already_exists");
  result({{"op", "create"}, {"name", "small"}, {"type", "string"}, {"capacity", 4}});
  BOOST_TEST(error_code({{"op", "set"}, {"name", "small"}, {"value", std::string(65u << 20, 'x')}}) ==
             "value_too_large");  // over 64M; smaller values grow the buffer
  BOOST_TEST(error_code({{"op", "hello"}, {"layout_version", 99}}) == "layout_mismatch");
  BOOST_TEST(error_code({{"op", "loop_mark"}, {"name", "n"}, {"state", "running"}}) == "type_mismatch");
  // ...and the handler still serves.
  BOOST_TEST(result({{"op", "get"}, {"name", "n"}})["value"] == 1);
}

BOOST_AUTO_TEST_CASE(a_full_segment_is_reported_and_serving_goes_on) {
  std::string last;
  for (int i = 0; i < 10000 && last != "segment_full"; ++i) {
    json r = call({{"op", "create"}, {"name", "big" + std::to_string(i)}, {"type", "bytes"}, {"capacity", 65536}});
    if (r.contains("error")) last = r["error"]["code"];
  }
  BOOST_TEST(last == "segment_full");
  BOOST_TEST(result({{"op", "stat"}})["variables"].get<int>() > 0);
}

BOOST_AUTO_TEST_CASE(loop_ops_follow_the_owner_rules) {
  result({{"op", "create"}, {"name", "lp"}, {"type", "loop"}});
  BOOST_TEST(result({{"op", "loop_mark"}, {"name", "lp"}, {"state", "starting"}})["pid"] == getpid());
  BOOST_TEST(result({{"op", "loop_mark"}, {"name", "lp"}, {"state", "running"}})["state"] == "running");
  BOOST_TEST(result({{"op", "loop_heartbeat"}, {"name", "lp"}, {"count", 3}})["iterations"] == 3);
  BOOST_TEST(error_code({{"op", "loop_mark"}, {"name", "lp"}, {"state", "paused"}}) == "invalid_argument");
  BOOST_TEST(error_code({{"op", "loop_heartbeat"}, {"name", "lp"}, {"pid", getppid()}}) == "invalid_argument");
  BOOST_TEST(result({{"op", "loop_request_stop"}, {"name", "lp"}})["state"] == "stopping");
  BOOST_TEST(result({{"op", "loop_mark"}, {"name", "lp"}, {"state", "stopped"}})["state"] == "stopped");
  BOOST_TEST(result({{"op", "loop_get"}, {"name", "lp"}})["state"] == "stopped");
  BOOST_TEST(error_code({{"op", "set"}, {"name", "lp"}, {"value", 1}}) == "type_mismatch");
}

BOOST_AUTO_TEST_CASE(wait_is_deferred_to_the_connection) {
  result({{"op", "set"}, {"name", "w"}, {"value", 1}});
  auto out = handler.handle({{"id", 9}, {"op", "wait"}, {"name", "w"}, {"version", 1}, {"timeout_ms", 10}}, me);
  BOOST_REQUIRE(out.wait.has_value());
  BOOST_TEST(out.wait->id == 9);
  BOOST_TEST(out.wait->record->bind_count.load() == 1u);
  core::segment::unbind(out.wait->record);
}

BOOST_AUTO_TEST_CASE(shutdown_is_answered_then_flagged) {
  BOOST_TEST(!handler.shutdown_requested());
  result({{"op", "shutdown"}});
  BOOST_TEST(handler.shutdown_requested());
}

BOOST_AUTO_TEST_SUITE_END()
