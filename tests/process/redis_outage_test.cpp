// SPDX-License-Identifier: MIT
// The Redis backend when Redis is not there: bad URLs, nothing listening, a Redis
// that goes away and comes back (over TCP and a Unix socket), and acknowledged writes
// surviving a SIGKILL of redis with an append-only file.
#include <signal.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

#include "redis_test_helpers.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;

BOOST_FIXTURE_TEST_SUITE(redis_outages, redis_fixture)

// ---- bad URLs, nothing listening ----

BOOST_AUTO_TEST_CASE(bad_urls_are_invalid_arguments_that_name_the_problem) {
  rb_failure f = rb_failure_of([] { rb_connect("redis://").list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "host"), f.what);

  f = rb_failure_of([] { rb_connect("redis://h:99999").list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "port"), f.what);

  f = rb_failure_of([&] { rb_connect(url("bogus=1")).list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "bogus"), f.what);

  f = rb_failure_of([&] { rb_connect(url("lease_ms=soon")).list(); });
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
  BOOST_TEST(rb_mentions(f.what, "lease_ms"), f.what);

  f = rb_failure_of([] { rb_connect("redis+unix://").list(); });  // no socket path
  BOOST_TEST((f.code == errc::invalid_argument), f.what);
}

BOOST_AUTO_TEST_CASE(nothing_listening_is_manager_unavailable_within_a_couple_of_seconds) {
  const int port = free_tcp_port();  // nobody listens there
  rb_failure f;
  milliseconds took = time_of([&] {
    f = rb_failure_of([&] { rb_connect("redis://127.0.0.1:" + std::to_string(port) + "?prefix=" + prefix).list(); });
  });
  BOOST_TEST((f.code == errc::manager_unavailable), f.what);
  BOOST_TEST(took < 3s, "took " << took.count() << " ms");

  const std::string no_socket = redis.dir() + "/nobody.sock";
  took = time_of([&] { f = rb_failure_of([&] { rb_connect("redis+unix://" + no_socket).list(); }); });
  BOOST_TEST((f.code == errc::manager_unavailable), f.what);
  BOOST_TEST(took < 3s, "took " << took.count() << " ms");
}

// ---- restarts, and durability with an append-only file ----

BOOST_FIXTURE_TEST_CASE(acknowledged_adds_survive_a_sigkill_of_redis_with_appendfsync_always, redis_aof_fixture) {
  {
    Client c = new_client();
    auto n = c.create<std::int64_t>("durable/n", 0);
    std::int64_t last = 0;
    for (int i = 0; i < 1000; ++i) last = n.add(1);
    BOOST_REQUIRE_EQUAL(last, 1000);  // every add acknowledged
    c.create<std::string>("durable/s", "kept");
  }
  redis.kill_now();  // no shutdown, no final flush
  redis.restart();
  Client after = new_client();
  BOOST_TEST(after.value<std::int64_t>("durable/n").get() == 1000);
  BOOST_TEST(after.value<std::string>("durable/s").get() == "kept");
}

// What an existing client does while Redis is down and after it is back: it tries
// for 3 s (a restart fits), then says manager_unavailable; then it works again.
BOOST_FIXTURE_TEST_CASE(while_redis_is_down_ops_fail_fast_and_the_client_works_again_after, redis_aof_fixture) {
  Client c = new_client();
  auto n = c.create<std::int64_t>("down/n", 5);
  redis.kill_now();
  rb_failure f;
  const milliseconds took = time_of([&] { f = rb_failure_of([&] { n.get(); }); });
  BOOST_TEST((f.code == errc::manager_unavailable), f.what);
  BOOST_TEST((took >= 2s && took < 6s), "took " << took.count() << " ms");
  redis.restart();
  BOOST_TEST(eventually([&] { return error_of([&] { n.add(1); }) == errc::ok; }, 5s));
  BOOST_TEST(n.get() == 6);
}

// On a Unix socket the client does not look at the connection before each command:
// the write to a restarted server's closed socket fails instead (without SIGPIPE,
// which would kill this process), and the command goes again on a new connection.
BOOST_FIXTURE_TEST_CASE(a_unix_socket_client_resends_after_a_restart_without_dying_of_sigpipe, redis_aof_fixture) {
  Client c(ClientOptions{.manager_name = unix_url()});
  auto n = c.create<std::int64_t>("restart/n", 5);
  redis.kill_now();
  redis.restart();
  BOOST_TEST((error_of([&] { n.add(1); }) == errc::ok));  // the first try: not sent on the old one, resent
  BOOST_TEST(n.get() == 6);
}

BOOST_AUTO_TEST_SUITE_END()
