// SPDX-License-Identifier: MIT
#define BOOST_TEST_MODULE mpstate_unit
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using runtime_dir = mpstate::test::runtime_dir_fixture;
BOOST_TEST_GLOBAL_FIXTURE(runtime_dir);
