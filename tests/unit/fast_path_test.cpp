// SPDX-License-Identifier: MIT
// The fast path for plain gets, sets, adds and cas (manager/src/fast_path.hpp) answers
// byte for byte what the general path answers, and leaves everything else to it.
#include "fast_path.hpp"

#include <boost/test/unit_test.hpp>
#include <limits>
#include <nlohmann/json.hpp>

#include "handler_fixture.hpp"

using namespace mpstate;
using core::json;

namespace {
struct fast_path_fixture : test::handler_fixture {
  fast_path_fixture() {
    set("i", -42);
    set("u", json(std::numeric_limits<std::uint64_t>::max()));
    set("d", 2.5);
    set("big", 1e300);
    set("b", true);
    set("s", "text");
  }
  void set(const std::string& name, const json& value) {
    BOOST_REQUIRE(handler.handle({{"op", "set"}, {"name", name}, {"value", value}}, me).response.contains("result"));
  }
  // The general path's answer line for the same request.
  std::string general(const std::string& line) {
    manager::handler_outcome out = handler.handle(json::parse(line), me);
    return core::to_line(out.response, out.exact_id);
  }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(fast_path, fast_path_fixture)

BOOST_AUTO_TEST_CASE(plain_gets_of_scalars_are_answered_as_the_general_path_answers) {
  for (const std::string line :
       {R"({"op":"get","name":"i"})", R"({"id":7,"op":"get","name":"u"})", R"({"name":"d","op":"get","id":-9})",
        R"( { "op" : "get" , "name" : "big" , "id" : 0 } )", R"({"op":"get","name":"b","id":123456789012345678})"}) {
    manager::handler_outcome out = handler.handle_line(line, me);
    BOOST_TEST_CONTEXT(line) {
      BOOST_TEST(!out.text.empty());
      BOOST_TEST(out.text == general(line));
    }
  }
  BOOST_TEST(handler.counters()["ops"]["get"] == 10);  // counted once each, on both paths
}

BOOST_AUTO_TEST_CASE(plain_sets_and_adds_of_int64_answer_and_change_as_the_general_path_does) {
  set("twin", -42);  // "i" and "twin": the same history, one served fast, one the general way
  for (const std::string op :
       {R"("op":"set","value":5)", R"("op":"add","delta":-7)", R"("delta":1000,"op":"add")",
        R"("op":"set","value":-123456789012345678)", R"("op":"add","delta":0)",
        R"("op":"cas","expected":0,"desired":9)",  // fails: the value is not 0
        R"("op":"cas","expected":-123456789012345678,"desired":77)", R"("desired":-1,"op":"cas","expected":77)"}) {
    const std::string fast = "{" + op + R"(,"name":"i","id":3})", slow = "{" + op + R"(,"name":"twin","id":3})";
    manager::handler_outcome out = handler.handle_line(fast, me);
    BOOST_TEST_CONTEXT(fast) {
      BOOST_TEST(!out.text.empty());
      BOOST_TEST(out.text == general(slow));
    }
  }
  BOOST_TEST(general(R"({"op":"get","name":"i"})") == general(R"({"op":"get","name":"twin"})"));
  // An overflowing add commits nothing: the general path answers out_of_range.
  set("i", json(std::numeric_limits<std::int64_t>::max()));
  BOOST_TEST(handler.handle_line(R"({"op":"add","name":"i","delta":1})", me).text.empty());
  // A read-only TCP peer's write goes the general way (which refuses it).
  manager::peer_context reader = me;
  reader.remote = reader.read_only = true;
  BOOST_TEST(handler.handle_line(R"({"op":"set","name":"i","value":1})", reader).text.empty());
  BOOST_TEST(!handler.handle_line(R"({"op":"get","name":"i"})", reader).text.empty());
}

BOOST_AUTO_TEST_CASE(everything_else_goes_the_general_way) {
  for (const std::string line : {
           R"({"op":"get","name":"s"})",                                     // a string: not a scalar
           R"({"op":"get","name":"missing"})",                               // not_found, from the general path
           R"({"op":"get","name":"i","id":007})",                            // not JSON
           R"({"op":"get","name":"i","id":-0})",                             // an id JSON writes back otherwise
           R"({"op":"get","name":"i","id":1.5})",                            // a float id
           R"({"op":"get","name":"i","id":"x"})",                            // a string id
           R"({"op":"get","name":"i","name":"d"})",                          // a key twice: the last one counts
           R"({"op":"get","name":"\u0069"})",                                // an escape
           R"({"op":"get","name":"i","extra":1})",                           // another field
           R"({"op":"set","name":"i"})",                                     // a set without its value
           R"({"op":"set","name":"d","value":1})",                           // a set of a double
           R"({"op":"add","name":"i","value":1})",                           // add takes a delta
           R"({"op":"cas","name":"i"})",                                     // a cas without its numbers
           R"({"op":"cas","name":"i","expected":1})",                        // ... or with one
           R"({"op":"cas","name":"i","expected":1,"desired":2,"value":3})",  // and another
           R"({"op":"cas","name":"d","expected":1,"desired":2})",            // a double
           R"({"op":"update","name":"i"})",                                  // another op
           R"({"op":"get","name":"i"} x)",                                   // trailing bytes
           R"({"op":"get","name":"../x"})",                                  // an invalid name
       }) {
    BOOST_TEST_CONTEXT(line) { BOOST_TEST(handler.handle_line(line, me).text.empty()); }
  }
  BOOST_TEST(!manager::parse_plain_request(R"({"op":"get"})"));
  BOOST_TEST(!manager::parse_plain_request(R"({"name":"i"})"));
  BOOST_TEST(!manager::parse_plain_request(R"({"op":"get","name":"i",})"));
  BOOST_TEST(!manager::parse_plain_request(R"({"op":"get","name":"i","value":1})"));
  BOOST_TEST(manager::parse_plain_request(R"({"op":"get","name":"i"})")->name == "i");
  BOOST_TEST(manager::parse_plain_request(R"({"op":"add","name":"i","delta":-5})")->number == -5);
  const auto cas = manager::parse_plain_request(R"({"desired":8,"op":"cas","name":"i","expected":-3})");
  BOOST_TEST((cas && cas->op == core::op_code::cas && cas->number == -3 && cas->desired == 8));
}

BOOST_AUTO_TEST_SUITE_END()
