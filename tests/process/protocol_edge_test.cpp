// SPDX-License-Identifier: MIT
// Protocol edge cases at the real socket: numbers at and past the 64-bit limits,
// NaN and infinities, invalid UTF-8, NUL bytes, duplicate keys, 10,000 pipelined
// requests. Each gets a defined answer and the connection keeps being served.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

namespace {
std::string set_line(const std::string& name, const std::string& value_text) {
  return R"({"op":"set","name":")" + name + R"(","value":)" + value_text + "}";
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(protocol_edges, manager_fixture)

BOOST_AUTO_TEST_CASE(integers_at_the_64_bit_limits_fit_and_one_past_is_out_of_range) {
  auto i = client->create<std::int64_t>("n/i", 0);
  auto u = client->create<std::uint64_t>("n/u", 0);
  raw_connection c(manager->socket_path());
  BOOST_TEST(code_of(ask(c, set_line("n/i", "9223372036854775807"))) == "ok");
  BOOST_TEST(i.get() == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(code_of(ask(c, set_line("n/i", "-9223372036854775808"))) == "ok");
  BOOST_TEST(i.get() == std::numeric_limits<std::int64_t>::min());
  BOOST_TEST(code_of(ask(c, set_line("n/i", "9223372036854775808"))) == "out_of_range");
  BOOST_TEST(code_of(ask(c, set_line("n/i", "-9223372036854775809"))) == "out_of_range");
  BOOST_TEST(code_of(ask(c, set_line("n/i", "123456789012345678901234567890"))) == "out_of_range");
  BOOST_TEST(code_of(ask(c, set_line("n/i", "1e300"))) == "out_of_range");
  BOOST_TEST(code_of(ask(c, set_line("n/i", "1.5"))) == "type_mismatch");
  BOOST_TEST(code_of(ask(c, set_line("n/i", "1e3"))) == "ok");  // a whole number, however written
  BOOST_TEST(i.get() == 1000);
  BOOST_TEST(code_of(ask(c, set_line("n/u", "18446744073709551615"))) == "ok");
  BOOST_TEST(u.get() == std::numeric_limits<std::uint64_t>::max());
  BOOST_TEST(code_of(ask(c, set_line("n/u", "18446744073709551616"))) == "out_of_range");
  BOOST_TEST(code_of(ask(c, set_line("n/u", "-1"))) == "out_of_range");
  i.set(std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(code_of(ask(c, R"({"op":"add","name":"n/i","delta":1})")) == "out_of_range");
  BOOST_TEST(i.get() == std::numeric_limits<std::int64_t>::max());          // refused, not wrapped
  BOOST_TEST(code_of(ask(c, set_line("n/d", "1e400"))) == "out_of_range");  // beyond a double
  BOOST_TEST(code_of(ask(c, set_line("n/d", "1e308"))) == "ok");
  BOOST_TEST(ask(c, R"({"op":"get","name":"n/d"})")["result"]["value"] == 1e308);
}

BOOST_AUTO_TEST_CASE(nan_and_infinity_are_not_json_numbers_and_travel_as_strings) {
  raw_connection c(manager->socket_path());
  for (const char* literal : {"NaN", "Infinity", "-Infinity", "nan", "inf"}) {
    json r = ask(c, set_line("d", literal));
    BOOST_TEST(code_of(r) == "bad_request", literal);
    BOOST_TEST(r["error"]["message"].get<std::string>().find("at byte") != std::string::npos);
  }
  auto d = client->create<double>("d", std::numeric_limits<double>::quiet_NaN());
  BOOST_TEST(std::isnan(d.get()));
  BOOST_TEST(ask(c, R"({"op":"get","name":"d"})")["result"]["value"] == "NaN");
  d.set(-std::numeric_limits<double>::infinity());
  BOOST_TEST(ask(c, R"({"op":"get","name":"d"})")["result"]["value"] == "-Infinity");
  BOOST_TEST(new_client(Transport::socket).value<double>("d").get() == -std::numeric_limits<double>::infinity());
  BOOST_TEST(code_of(ask(c, set_line("d", R"("Infinity")"))) == "ok");
  BOOST_TEST(d.get() == std::numeric_limits<double>::infinity());
  BOOST_TEST(code_of(ask(c, set_line("d", "null"))) == "ok");
  BOOST_TEST(std::isnan(d.get()));
  BOOST_TEST(code_of(ask(c, set_line("d", R"("infinity")"))) == "type_mismatch");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused_at_the_socket_and_by_local_proxies) {
  raw_connection c(manager->socket_path());
  BOOST_TEST(code_of(ask(c, set_line("s",
                                     "\"a\xff\xfe"
                                     "b\""))) == "bad_request");
  BOOST_TEST(code_of(ask(c, set_line("\xc3\x28", "1"))) == "bad_request");
  BOOST_TEST(code_of(ask(c, set_line("s", R"("\ud800")"))) == "bad_request");   // a lone surrogate
  BOOST_TEST(code_of(ask(c, set_line("caf\xc3\xa9", "1"))) == "invalid_name");  // valid UTF-8, not a name byte
  // The same rule for a local proxy: strings are text, binary data is Bytes.
  auto s = client->create<std::string>("s", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 32);
  BOOST_TEST(ask(c, R"({"op":"get","name":"s"})")["result"]["value"] == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  for (const char* bad : {"ok\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "cut \xe2\x82"}) {
    BOOST_TEST((error_of([&] { s.set(bad); }) == errc::invalid_argument), bad);
    BOOST_TEST((error_of([&] { client->create<std::string>("s2", bad); }) == errc::invalid_argument), bad);
  }
  BOOST_TEST(s.get() == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  BOOST_TEST(s.version() == 1u);
  BOOST_TEST(client->list("s2").empty());
}

BOOST_AUTO_TEST_CASE(nul_bytes_travel_inside_strings_and_never_in_names_or_raw) {
  raw_connection c(manager->socket_path());
  BOOST_TEST(code_of(ask(c, set_line("z", R"("a\u0000b")"))) == "ok");
  BOOST_TEST(client->value<std::string>("z").get() == std::string("a\0b", 3));
  BOOST_TEST(ask(c, R"({"op":"get","name":"z"})")["result"]["value"] == std::string("a\0b", 3));
  BOOST_TEST(code_of(ask(c, set_line("a\\u0000b", "1"))) == "invalid_name");
  BOOST_TEST(code_of(ask(c, std::string("{\"op\":\"list\"\0}", 14))) == "bad_request");
  BOOST_TEST(code_of(ask(c, R"({"op":"list"})")) == "ok");
}

BOOST_AUTO_TEST_CASE(a_duplicate_key_takes_its_last_value) {
  client->create<std::int64_t>("first", 1);
  client->create<std::int64_t>("second", 2);
  raw_connection c(manager->socket_path());
  BOOST_TEST(ask(c, R"({"op":"get","name":"first","name":"second"})")["result"]["value"] == 2);
  BOOST_TEST(ask(c, R"({"id":1,"id":"two","op":"get","name":"first"})")["id"] == "two");
  BOOST_TEST(code_of(ask(c, R"({"op":"get","op":"teleport","name":"first"})")) == "unknown_op");
}

BOOST_AUTO_TEST_CASE(ids_are_echoed_exactly_as_sent_big_integers_included) {
  raw_connection c(manager->socket_path());
  const std::string big = "123456789012345678901234567890";  // beyond 64 bits: a double would round it
  c.send(R"({"id":)" + big +
         R"(,"op":"set","name":"ids/x","value":1})"
         "\n");
  auto ok = c.read_line();
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST(ok->find(R"("id":)" + big + ",") != std::string::npos, *ok);
  c.send(R"({"op":"get","id":-)" + big +
         R"(,"name":"ids/missing"})"
         "\n");  // an error answer, id after the op
  auto missing = c.read_line();
  BOOST_REQUIRE(missing.has_value());
  BOOST_TEST(missing->find(R"("id":-)" + big + "}") != std::string::npos, *missing);
  c.send(R"({"id":18446744073709551616,"op":"wait","name":"ids/x","version":1,"timeout_ms":10})"
         "\n");
  auto waited = c.read_line();
  BOOST_REQUIRE(waited.has_value());
  BOOST_TEST(waited->find(R"("id":18446744073709551616,)") != std::string::npos, *waited);
  for (const std::string id : {"18446744073709551615", "-9223372036854775808", "1.5", "\"text\"", "[1,{\"id\":2}]"}) {
    c.send(R"({"id":)" + id +
           R"(,"op":"list"})"
           "\n");
    auto line = c.read_line();
    BOOST_REQUIRE(line.has_value());
    BOOST_TEST(line->find(R"({"id":)" + id + ",") == 0u, *line);
  }
}

BOOST_AUTO_TEST_CASE(ten_thousand_pipelined_requests_are_answered_in_order) {
  raw_connection c(manager->socket_path());
  std::string batch;
  for (int i = 0; i < 10'000; ++i) {
    switch (i % 3) {
      case 0:
        batch += R"({"id":)" + std::to_string(i) +
                 R"(,"op":"add","name":"p","delta":1})"
                 "\n";
        break;
      case 1:
        batch += R"({"id":)" + std::to_string(i) +
                 R"(,"op":"get","name":"p"})"
                 "\n";
        break;
      default:
        batch += R"({"id":)" + std::to_string(i) +
                 R"(,"op":"get","name":"missing"})"
                 "\n";
    }
  }
  client->create<std::int64_t>("p", 0);
  BOOST_REQUIRE(c.send_for(batch, 10s));
  std::int64_t adds = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto line = c.read_line();
    BOOST_REQUIRE(line.has_value());
    json r = json::parse(*line);
    BOOST_REQUIRE(r["id"] == i);
    if (i % 3 == 0) BOOST_REQUIRE(r["result"]["value"] == ++adds);
    if (i % 3 == 1) BOOST_REQUIRE(r["result"]["value"] == adds);
    if (i % 3 == 2) BOOST_REQUIRE(code_of(r) == "not_found");
  }
  BOOST_TEST(client->value<std::int64_t>("p").get() == 3334);
}

BOOST_AUTO_TEST_SUITE_END()
