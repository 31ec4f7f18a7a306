// SPDX-License-Identifier: MIT
// Bad input at the real socket: each gets its error code, and the manager keeps
// serving this connection (or, after an over-long line, everyone else).
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mpstate/core/protocol.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(socket_input, manager_fixture)

BOOST_AUTO_TEST_CASE(malformed_and_unknown_requests_get_codes_on_a_connection_that_stays_open) {
  raw_connection c(manager->socket_path());
  BOOST_TEST(code_of(ask(c, "{\"op\": \"get\", ")) == "bad_request");
  BOOST_TEST(code_of(ask(c, "\"just a string\"")) == "bad_request");
  BOOST_TEST(code_of(ask(c, R"({"id":1,"op":"teleport"})")) == "unknown_op");
  BOOST_TEST(code_of(ask(c, R"({"id":2,"op":"get"})")) == "missing_field");
  BOOST_TEST(code_of(ask(c, R"({"id":3,"op":"set","name":"","value":1})")) == "invalid_name");
  BOOST_TEST(code_of(ask(c, R"({"id":4,"op":"set","name":"../etc","value":1})")) == "invalid_name");
  BOOST_TEST(code_of(ask(c, R"({"id":5,"op":"get","name":"a\u0000b"})")) == "invalid_name");
  BOOST_TEST(code_of(ask(c, "{\"id\":6,\"op\":\"set\",\"name\":\"" + std::string(300, 'x') + "\",\"value\":1}")) ==
             "invalid_name");
  json ok = ask(c, R"({"id":7,"op":"set","name":"fine","value":1})");
  BOOST_TEST(ok["id"] == 7);
  BOOST_TEST(code_of(ask(c, R"({"id":8,"op":"set","name":"fine","value":"text"})")) == "type_mismatch");
  BOOST_TEST(ask(c, R"({"id":9,"op":"get","name":"fine"})")["result"]["value"] == 1);
}

BOOST_AUTO_TEST_CASE(an_over_long_line_closes_only_that_connection) {
  raw_connection bad(manager->socket_path());
  raw_connection good(manager->socket_path());
  bad.send("{\"op\":\"set\",\"name\":\"x\",\"value\":\"" + std::string(core::default_max_line + 10, 'a'));
  auto reply = bad.read_line();
  BOOST_REQUIRE(reply.has_value());
  BOOST_TEST(code_of(json::parse(*reply)) == "line_too_long");
  BOOST_TEST(bad.closed_by_peer());
  BOOST_TEST(ask(good, R"({"id":1,"op":"list"})").contains("result"));
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order) {
  raw_connection c(manager->socket_path());
  std::string batch;
  for (int i = 0; i < 1000; ++i)
    batch += R"({"id":)" + std::to_string(i) + R"(,"op":"set","name":"p","value":)" + std::to_string(i) + "}\n";
  c.send(batch);
  for (int i = 0; i < 1000; ++i) {
    auto line = c.read_line();
    BOOST_REQUIRE(line.has_value());
    BOOST_REQUIRE(json::parse(*line)["id"] == i);
  }
  BOOST_TEST(client->value<std::int64_t>("p").get() == 999);
}

BOOST_AUTO_TEST_CASE(a_blank_line_after_pipelined_requests_holds_back_no_answer) {
  raw_connection c(manager->socket_path());
  std::string batch;
  for (int i = 0; i < 10; ++i)
    batch += R"({"id":)" + std::to_string(i) +
             R"(,"op":"set","name":"b","value":1})"
             "\n";
  c.send(batch + "\n");  // ten requests, then a blank line, in one write
  for (int i = 0; i < 10; ++i) {
    auto line = c.read_line(2s);
    BOOST_REQUIRE_MESSAGE(line.has_value(), "answer " << i << " never came");
    BOOST_TEST(json::parse(*line)["id"] == i);
  }
  c.send("{\"id\":\"lone\",\"op\":\"list\"}\n\r\n  \n");
  auto lone = c.read_line(2s);
  BOOST_REQUIRE(lone.has_value());
  BOOST_TEST(json::parse(*lone)["id"] == "lone");
}

BOOST_AUTO_TEST_CASE(a_request_before_a_wait_is_answered_before_the_wait_ends) {
  raw_connection c(manager->socket_path());
  ask(c, R"({"op":"set","name":"bw","value":1})");
  c.send(R"({"id":1,"op":"get","name":"bw"})"
         "\n"
         R"({"id":2,"op":"wait","name":"bw","version":1,"timeout_ms":3000})"
         "\n");
  auto first = c.read_line(1s);  // not after the wait's 3 s
  BOOST_REQUIRE(first.has_value());
  BOOST_TEST(json::parse(*first)["id"] == 1);
  client->value<std::int64_t>("bw").set(2);
  auto second = c.read_line(2s);
  BOOST_REQUIRE(second.has_value());
  BOOST_TEST(json::parse(*second)["result"]["changed"] == true);
}

BOOST_AUTO_TEST_CASE(a_full_segment_is_an_error_and_serving_goes_on) {
  raw_connection c(manager->socket_path());
  std::string last;
  for (int i = 0; i < 100000 && last != "segment_full"; ++i) {
    json r = ask(c, R"({"op":"create","type":"bytes","capacity":1048576,"name":"fill/)" + std::to_string(i) + "\"}");
    if (r.contains("error")) last = code_of(r);
  }
  BOOST_TEST(last == "segment_full");
  BOOST_TEST(ask(c, R"({"op":"delete","name":"fill/0"})").contains("result"));
  BOOST_TEST(ask(c, R"({"op":"create","type":"bytes","capacity":1048576,"name":"fill/again"})").contains("result"));
}

BOOST_AUTO_TEST_CASE(the_wait_op_answers_on_change_and_on_timeout) {
  raw_connection c(manager->socket_path());
  ask(c, R"({"op":"set","name":"w","value":1})");
  json timed_out = ask(c, R"({"id":1,"op":"wait","name":"w","version":1,"timeout_ms":20})");
  BOOST_TEST(timed_out["result"]["changed"] == false);
  c.send(R"({"id":2,"op":"wait","name":"w","version":1,"timeout_ms":5000})"
         "\n");
  client->value<std::int64_t>("w").set(2);
  auto reply = c.read_line();
  BOOST_REQUIRE(reply.has_value());
  BOOST_TEST(json::parse(*reply)["result"]["changed"] == true);
}

BOOST_AUTO_TEST_CASE(shutdown_answers_then_the_manager_exits_cleanly) {
  raw_connection c(manager->socket_path());
  BOOST_TEST(ask(c, R"({"id":1,"op":"shutdown"})")["result"] == json::object());
  BOOST_TEST(c.closed_by_peer());
  BOOST_TEST(wait_exit(manager->pid(), 5s).value() == 0);
  BOOST_TEST(access(manager->socket_path().c_str(), F_OK) != 0);
  BOOST_TEST((error_of([&] { Client again(name); }) == errc::manager_unavailable));
}

BOOST_AUTO_TEST_CASE(list_ops_prints_every_op_of_the_table) {
  auto r = run_command(std::string(MPSTATE_MANAGER_PATH) + " --list-ops");
  BOOST_TEST(r.exit_code == 0);
  for (const auto& op : core::op_table()) {
    BOOST_TEST(r.output.find("| `" + std::string(op.name) + "` |") != std::string::npos, op.name);
  }
}

BOOST_AUTO_TEST_SUITE_END()
