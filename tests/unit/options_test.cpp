// SPDX-License-Identifier: MIT
// manager::options::validate: every out-of-range or inconsistent option refused with
// invalid_argument naming it (a bad name: invalid_name), checked by the server itself before it makes anything,
// so a manager run in-process gets the command line's checks; and the command line
// (manager::parse_command_line, what mpstate-manager's main runs) parsed into them.
#include "mpstate/manager/options.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "command_line.hpp"
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

BOOST_AUTO_TEST_CASE(the_command_line_becomes_typed_options) {
  const manager::command c = manager::parse_command_line(
      {"--name", "cl", "--size", "1M", "--idle-timeout", "0.5", "--allow-uid", "1001", "1002", "--lease", "7",
       "--busy-poll", "50", "--max-answer-memory", "2K", "--snapshot-interval", "0"});
  BOOST_TEST((c.what == manager::command::action::serve));
  BOOST_TEST(c.opts.name == "cl");
  BOOST_TEST(c.opts.size == 1u << 20);
  BOOST_TEST(c.opts.idle_timeout.count() == 500);
  BOOST_TEST((c.opts.allowed_uids == std::vector<uid_t>{1001, 1002}));
  BOOST_TEST(c.opts.lease.count() == 7);
  BOOST_TEST(c.opts.busy_poll.count() == 50);
  BOOST_TEST(c.opts.max_answer_memory == 2048u);
  BOOST_TEST(c.opts.snapshot_interval.count() == 0);
  BOOST_CHECK_NO_THROW(c.opts.validate());
}

BOOST_AUTO_TEST_CASE(help_version_and_list_ops_need_no_name) {
  const manager::command help = manager::parse_command_line({"--help"});
  BOOST_TEST((help.what == manager::command::action::help));
  BOOST_TEST(help.usage.find("--busy-timeout") != std::string::npos);
  BOOST_TEST((manager::parse_command_line({"--version"}).what == manager::command::action::version));
  BOOST_TEST((manager::parse_command_line({"--list-ops"}).what == manager::command::action::list_ops));
}

BOOST_AUTO_TEST_CASE(a_bad_command_line_is_refused_and_a_bad_value_checked_by_the_library) {
  BOOST_CHECK_THROW(manager::parse_command_line({"--size", "1M"}), std::exception);  // no --name
  BOOST_CHECK_THROW(manager::parse_command_line({"--name", "x", "--bogus"}), std::exception);
  BOOST_TEST((error_of([] {
                manager::parse_command_line({"--name", "x", "--size", "12Q"});
              }) == errc::invalid_argument));
  // Parsed as typed; refused by options::validate, the check an in-process server makes.
  const manager::command c = manager::parse_command_line({"--name", "x", "--idle-timeout", "-1"});
  BOOST_TEST((error_of([&] { c.opts.validate(); }) == errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(the_key_in_the_environment_is_taken_and_wiped) {
  ::setenv("MPSTATE_KEY", "sixteen-byte-key-0123", 1);
  const manager::command c = manager::parse_command_line({"--name", "k", "--listen", "127.0.0.1:0"});
  BOOST_TEST(c.opts.key == "sixteen-byte-key-0123");
  BOOST_TEST(std::getenv("MPSTATE_KEY") == nullptr);
  BOOST_CHECK_NO_THROW(c.opts.validate());
}

BOOST_AUTO_TEST_SUITE_END()
