// SPDX-License-Identifier: MIT
// Epochs and fences on the segment and over the socket: every holding has an epoch
// that only grows; a release, heartbeat or fenced write made as a holding that has
// ended is refused (ownership_lost) and changes nothing, while Python's rule that
// anyone may release a held Lock still holds for a process that never acquired it.
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "fence_checks.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;

BOOST_FIXTURE_TEST_SUITE(fences, manager_fixture)

BOOST_AUTO_TEST_CASE(a_stale_fence_is_refused_on_the_mapped_segment) {
  a_stale_fence_is_refused_and_changes_nothing(*client);
}

BOOST_AUTO_TEST_CASE(a_stale_fence_is_refused_over_the_socket) {
  Client remote = new_client(Transport::socket);
  a_stale_fence_is_refused_and_changes_nothing(remote);
}

BOOST_AUTO_TEST_CASE(a_fenced_write_loses_to_the_next_holder_across_processes) {
  auto lock = client->lock("x/lock");
  auto n = client->value_or_create<std::int64_t>("x/n", 0);
  lock.acquire();
  const Fence mine = lock.fence();
  // Another process (anyone may release a held Lock, as in Python) frees it and takes it.
  pid_t child = child_holding([&] {
    Client c(name);
    auto l = c.lock("x/lock");
    l.release();
    l.acquire();
  });
  BOOST_TEST((error_of([&] { n.add(1, mine); }) == errc::ownership_lost));
  // The former owner's release is refused: it would free the new holder's lock.
  BOOST_TEST((error_of([&] { lock.release(); }) == errc::ownership_lost));
  BOOST_TEST(lock.locked());
  BOOST_TEST(lock.state()["holder_pid"] == child);
  kill_now(child);
  BOOST_TEST(n.get() == 0);
}

BOOST_AUTO_TEST_CASE(a_process_that_never_acquired_may_still_release_a_held_lock) {
  auto lock = client->lock("py/lock");
  pid_t child = child_holding([&] {
    Client c(name);
    c.lock("py/lock").acquire();
  });
  lock.release();  // this proxy holds nothing: a plain release, as threading.Lock allows
  BOOST_TEST(!lock.locked());
  kill_now(child);
}

BOOST_AUTO_TEST_CASE(an_rlock_keeps_its_epoch_while_reentered_and_a_semaphore_numbers_owned_holdings) {
  auto rlock = client->rlock("e/rlock");
  const auto a = rlock.acquire().fence;
  BOOST_TEST(rlock.acquire().fence == a);  // the same holding, deeper
  rlock.release();
  BOOST_TEST(rlock.fence().epoch() == a);  // still held (depth 1)
  rlock.release();
  BOOST_TEST(!rlock.fence());
  BOOST_TEST(rlock.acquire().fence > a);
  rlock.release();

  auto plain = client->semaphore("e/plain", 2);
  BOOST_TEST(plain.acquire());
  BOOST_TEST(!plain.fence());  // a counter: nobody owns its permits
  plain.release();
  auto owned = client->semaphore("e/owned", 2, PermitRecovery::return_dead_holders);
  BOOST_TEST(owned.acquire());
  const Fence f = owned.fence();
  BOOST_REQUIRE(f);
  auto n = client->value_or_create<std::int64_t>("e/n", 0);
  BOOST_TEST(n.add(1, f) == 1);
  owned.release();
  BOOST_TEST((error_of([&] { n.add(1, f); }) == errc::ownership_lost));
}

BOOST_AUTO_TEST_CASE(a_loop_owner_whose_loop_was_taken_over_is_told_at_its_next_op) {
  auto owner = client->loop("l/loop");
  owner.mark_starting();
  owner.mark_running();
  owner.heartbeat();
  const std::uint64_t first = owner.epoch();
  BOOST_TEST(first != 0);
  // A second proxy of the same process starts it again: a new ownership.
  auto again = client->loop("l/loop");
  again.mark_starting();
  BOOST_TEST(again.epoch() > first);
  BOOST_TEST((error_of([&] { owner.heartbeat(); }) == errc::ownership_lost));
  BOOST_TEST((error_of([&] { owner.mark_stopped(); }) == errc::ownership_lost));
  BOOST_TEST((again.state() == LoopPhase::starting));
  again.mark_running();
  again.mark_stopped();
  BOOST_TEST((error_of([&] { again.heartbeat(); }) == errc::ownership_lost));  // its run ended
  BOOST_TEST(again.info().iterations == 0u);
}

BOOST_AUTO_TEST_CASE(bad_fences_on_the_wire_get_clear_errors) {
  raw_connection raw(manager->socket_path());
  ask(raw, R"({"op":"create","name":"w/lock","type":"lock"})");
  ask(raw, R"({"op":"set","name":"w/n","value":1})");
  BOOST_TEST(code_of(ask(raw, R"({"op":"set","name":"w/n","value":2,"fence":5})")) == "bad_request");
  BOOST_TEST(code_of(ask(raw, R"({"op":"set","name":"w/n","value":2,"fence":{"lock":"w/lock"}})")) == "missing_field");
  BOOST_TEST(code_of(ask(raw, R"({"op":"add","name":"w/n","delta":2,"fence":{"lock":"w/lock","epoch":-1}})")) ==
             "bad_request");
  BOOST_TEST(code_of(ask(raw, R"({"op":"add","name":"w/n","delta":2,"fence":{"lock":"w/lock","epoch":7}})")) ==
             "ownership_lost");
  BOOST_TEST(code_of(ask(raw, R"({"op":"release","name":"w/lock","epoch":"x"})")) == "bad_request");
  const auto got = ask(raw, R"({"op":"acquire","name":"w/lock"})");
  const std::uint64_t fence = got["result"]["fence"];
  BOOST_TEST(code_of(ask(raw, R"({"op":"add","name":"w/n","delta":2,"fence":{"lock":"w/lock","epoch":)" +
                                  std::to_string(fence) + "}}")) == "ok");
  BOOST_TEST(code_of(ask(raw, R"({"op":"release","name":"w/lock","epoch":)" + std::to_string(fence + 1) + "}")) ==
             "ownership_lost");
  BOOST_TEST(code_of(ask(raw, R"({"op":"release","name":"w/lock","epoch":)" + std::to_string(fence) + "}")) == "ok");
  BOOST_TEST(ask(raw, R"({"op":"get","name":"w/n"})")["result"]["value"] == 3);
}

BOOST_AUTO_TEST_SUITE_END()
