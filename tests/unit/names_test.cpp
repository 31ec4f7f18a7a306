// SPDX-License-Identifier: MIT
#include "mpstate/core/names.hpp"

#include <boost/test/unit_test.hpp>

#include "mpstate/error.hpp"
#include "test_support.hpp"

using namespace mpstate;
using mpstate::core::validate_variable_name;

namespace {
errc name_error(const std::string& name) {
  return test::error_of([&] { validate_variable_name(name); });
}
}  // namespace

BOOST_AUTO_TEST_SUITE(names)

BOOST_AUTO_TEST_CASE(accepts_paths_of_allowed_segments) {
  for (const char* good : {"a", "scheduler/loop", "jobs/42/state", "A-b_c.d", "x.y/z", "a..b"}) {
    BOOST_TEST((name_error(good) == errc::ok), good);
  }
  BOOST_TEST((name_error(std::string(255, 'a')) == errc::ok));
}

BOOST_AUTO_TEST_CASE(refuses_empty_long_bad_characters_and_dot_segments) {
  for (const std::string& bad :
       {std::string(), std::string(256, 'a'), std::string("a b"), std::string("a\0b", 3), std::string("/a"),
        std::string("a/"), std::string("a//b"), std::string(".."), std::string("a/../b"), std::string("./a"),
        std::string("a\xc3\xa9"), std::string("a*")}) {
    BOOST_TEST((name_error(bad) == errc::invalid_name), "name of " << bad.size() << " bytes");
  }
}

BOOST_AUTO_TEST_CASE(manager_names_are_single_segments) {
  BOOST_CHECK_NO_THROW(core::validate_manager_name("demo-1"));
  for (const char* bad : {"", "a/b", "..", ".", "a b"}) {
    BOOST_CHECK_THROW(core::validate_manager_name(bad), error);
  }
  BOOST_CHECK_THROW(core::validate_manager_name(std::string(65, 'm')), error);
}

BOOST_AUTO_TEST_CASE(runtime_directory_follows_the_environment) {
  // The global fixture set MPSTATE_RUNTIME_DIR.
  std::string dir = core::runtime_directory();
  BOOST_TEST(core::default_socket_path("x") == dir + "/x.sock");
  BOOST_TEST(core::lock_file_path("x") == dir + "/x.lock");
  BOOST_TEST(core::segment_name("x").find("mpstate-") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
