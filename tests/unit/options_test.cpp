// SPDX-License-Identifier: MIT
// manager::options::validate: every out-of-range or inconsistent option refused with
// invalid_argument naming it (a bad name: invalid_name), checked by the server itself before it makes anything,
// so a manager run in-process gets the command line's checks.
#include "mpstate/manager/options.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <functional>

#include "mpstate/core/names.hpp"
#include "mpstate/error.hpp"
#include "mpstate/manager/server.hpp"
#include "test_support.hpp"

using namespace mpstate;
using namespace std::chrono_literals;
using test::error_of;

namespace {
manager::options valid() {
  manager::options o;
  o.name = "options-" + std::to_string(::getpid());
  return o;
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(manager_options, test::runtime_dir_fixture)

BOOST_AUTO_TEST_CASE(the_defaults_pass_and_each_bad_option_is_refused_by_name) {
  BOOST_CHECK_NO_THROW(valid().validate());
  const std::pair<std::function<void(manager::options&)>, const char*> bad[] = {
      {[](auto& o) { o.name = "no/slash"; }, "manager name"},
      {[](auto& o) { o.max_connections = 0; }, "--max-connections"},
      {[](auto& o) { o.max_line = 100; }, "--max-line"},
      {[](auto& o) { o.idle_timeout = -1ms; }, "--idle-timeout"},
      {[](auto& o) { o.busy_timeout = -1ms; }, "--busy-timeout"},
      {[](auto& o) { o.snapshot_interval = -1ms; }, "--snapshot-interval"},
      {[](auto& o) { o.lease = 0s; }, "--lease"},
      {[](auto& o) { o.busy_poll = 5001us; }, "--busy-poll"},
      {[](auto& o) { o.key = o.read_only_key = "same"; }, "read-only key"},
      {[](auto& o) { o.listen = {"127.0.0.1:0"}; }, "--listen needs a key"},
      {[](auto& o) { o.tls_cert = "c.pem"; }, "--tls-key"},
      {[](auto& o) { o.tls_ca = "ca.pem"; }, "--tls-ca"},
  };
  for (const auto& [spoil, named] : bad) {
    manager::options o = valid();
    spoil(o);
    try {
      o.validate();
      BOOST_ERROR("accepted a bad " << named);
    } catch (const error& e) {
      BOOST_TEST((e.code() == (o.name == "no/slash" ? errc::invalid_name : errc::invalid_argument)), named);
      BOOST_TEST(e.message().find(named) != std::string::npos, e.message());
    }
  }
}

BOOST_AUTO_TEST_CASE(an_in_process_server_with_a_bad_option_makes_nothing) {
  manager::options o = valid();
  o.lease = 0s;
  BOOST_TEST((error_of([&] { manager::server s(o); }) == errc::invalid_argument));
  BOOST_TEST(!std::filesystem::exists("/dev/shm/" + core::segment_name(o.name)));
  BOOST_TEST(!std::filesystem::exists(core::default_socket_path(o.name)));
}

BOOST_AUTO_TEST_SUITE_END()
