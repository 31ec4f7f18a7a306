// SPDX-License-Identifier: MIT
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "mpstate/core/protocol.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"
#include "size_arg.hpp"

using namespace mpstate;
using core::json;

BOOST_AUTO_TEST_SUITE(codecs)

BOOST_AUTO_TEST_CASE(every_error_code_round_trips_through_its_wire_name) {
  for (int i = 0; i <= static_cast<int>(errc::internal); ++i) {
    auto code = static_cast<errc>(i);
    BOOST_TEST((errc_from_string(to_string(code)) == code), to_string(code));
  }
  BOOST_TEST((errc_from_string("no_such_code") == errc::internal));
  error e(errc::not_found, "gone");
  BOOST_TEST(std::string(e.what()) == "not_found: gone");
  BOOST_TEST(e.message() == "gone");
}

BOOST_AUTO_TEST_CASE(base64_round_trips_all_lengths_and_refuses_garbage) {
  std::string bytes;
  for (int n = 0; n < 300; ++n) {
    BOOST_TEST(core::base64_decode(core::base64_encode(bytes)) == bytes);
    bytes += static_cast<char>(n * 37);
  }
  BOOST_TEST(core::base64_encode("hello") == "aGVsbG8=");
  BOOST_TEST(core::base64_decode("aGVsbG8=") == "hello");
  BOOST_CHECK_THROW(core::base64_decode("abc"), error);
  BOOST_CHECK_THROW(core::base64_decode("ab!d"), error);
  BOOST_CHECK_THROW(core::base64_decode("a=bc"), error);
}

BOOST_AUTO_TEST_CASE(json_values_pick_the_type_a_set_creates) {
  BOOST_TEST((core::type_for_json(json(5)) == core::value_type::int64));
  BOOST_TEST((core::type_for_json(json(-5)) == core::value_type::int64));
  BOOST_TEST((core::type_for_json(json(18446744073709551615ull)) == core::value_type::uint64));
  BOOST_TEST((core::type_for_json(json(1.5)) == core::value_type::float64));
  BOOST_TEST((core::type_for_json(json(true)) == core::value_type::boolean));
  BOOST_TEST((core::type_for_json(json("s")) == core::value_type::string));
  BOOST_TEST((core::type_for_json(json::array()) == core::value_type::json));
  BOOST_TEST((core::type_for_json(json(nullptr)) == core::value_type::json));
}

BOOST_AUTO_TEST_CASE(type_and_state_names_round_trip) {
  for (const char* t : {"int64", "uint64", "double", "bool", "string", "bytes", "json", "loop"}) {
    BOOST_TEST(core::to_string(core::value_type_from_string(t)) == t);
  }
  BOOST_CHECK_THROW(core::value_type_from_string("float"), error);
  for (const char* s : {"idle", "starting", "running", "stopping", "stopped", "failed"}) {
    BOOST_TEST(core::to_string(core::loop_phase_from_string(s)) == s);
  }
  BOOST_CHECK_THROW(core::loop_phase_from_string("paused"), error);
}

BOOST_AUTO_TEST_CASE(sizes_take_k_m_g_suffixes) {
  BOOST_TEST(manager::parse_size("4096") == 4096u);
  BOOST_TEST(manager::parse_size("64K") == 64u << 10);
  BOOST_TEST(manager::parse_size("16M") == 16u << 20);
  BOOST_TEST(manager::parse_size("2G") == 2ull << 30);
  for (const char* bad : {"", "M", "12X", "-1", "1.5M", "99999999999999999999G"}) {
    BOOST_CHECK_THROW(manager::parse_size(bad), error);
  }
}

BOOST_AUTO_TEST_CASE(request_fields_report_missing_and_wrongly_typed) {
  json req = {{"name", 5}, {"n", "x"}};
  BOOST_CHECK_THROW(core::require_field(req, "absent"), error);
  try {
    core::require_string(req, "name");
    BOOST_FAIL("expected bad_request");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::bad_request));
  }
  try {
    core::require_integer(req, "absent");
    BOOST_FAIL("expected missing_field");
  } catch (const error& e) {
    BOOST_TEST((e.code() == errc::missing_field));
  }
}

BOOST_AUTO_TEST_SUITE_END()
