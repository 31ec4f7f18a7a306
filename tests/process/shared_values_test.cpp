// SPDX-License-Identifier: MIT
// Values shared by real processes: exact counts under contention, cross-process
// reads, change notification, and the same API over the socket.
#include <boost/test/unit_test.hpp>

#include "mpstate/core/process_identity.hpp"
#include "mpstate/json.hpp"
#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(shared_values, manager_fixture)

BOOST_AUTO_TEST_CASE(four_processes_adding_one_100000_times_end_at_exactly_400000) {
  constexpr int procs = 4, adds = 100'000;
  auto counter = client->create<std::int64_t>("counter", 0);
  auto ready = client->create<std::int64_t>("ready", 0);
  auto go = client->create<bool>("go", false);
  std::vector<pid_t> children;
  for (int p = 0; p < procs; ++p) {
    children.push_back(spawn([&] {
      Client own(name);  // each child connects and maps on its own
      auto c = own.value<std::int64_t>("counter");
      auto start = own.value<bool>("go");
      std::uint64_t seen = start.version();
      own.value<std::int64_t>("ready").add(1);
      while (!start.get()) seen = start.wait_for_change(seen, 5s);  // start together
      for (int i = 0; i < adds; ++i) c.add(1);
      return 0;
    }));
  }
  BOOST_REQUIRE(eventually([&] { return ready.get() == procs; }, 10s));
  go.set(true);
  for (pid_t child : children) BOOST_TEST(wait_exit(child, 60s).value() == 0);
  BOOST_TEST(counter.get() == procs * adds);
  BOOST_TEST(counter.version() == static_cast<std::uint64_t>(procs * adds + 1));
}

BOOST_AUTO_TEST_CASE(update_is_atomic_across_processes_for_scalars_and_json) {
  auto n = client->create<std::int64_t>("n", 0);
  auto doc = client->create<json>("doc", json{{"count", 0}});
  std::vector<pid_t> children;
  for (int p = 0; p < 2; ++p) {
    children.push_back(spawn([&] {
      for (int i = 0; i < 5000; ++i) {
        n.update([](std::int64_t v) { return v + 2; });
        doc.update([](json d) {
          d["count"] = d["count"].get<int>() + 1;
          return d;
        });
      }
      return 0;
    }));
  }
  for (pid_t child : children) BOOST_TEST(wait_exit(child).value() == 0);
  BOOST_TEST(n.get() == 20000);
  BOOST_TEST(doc.get()["count"] == 10000);
}

BOOST_AUTO_TEST_CASE(a_value_written_by_one_process_is_read_by_another) {
  auto text = client->create<std::string>("text", "", 64);
  auto data = client->create<Bytes>("data", Bytes{}, 16);
  auto ratio = client->create<double>("ratio", 0.0);
  pid_t child = spawn([&] {
    Client own(name);
    own.value<std::string>("text").set("written by " + std::to_string(getpid()));
    own.value<Bytes>("data").set(Bytes{0, 1, 2, 255});
    own.value<double>("ratio").set(0.25);
    return 0;
  });
  BOOST_TEST(wait_exit(child).value() == 0);
  BOOST_TEST(text.get() == "written by " + std::to_string(child));
  BOOST_TEST((data.get() == Bytes{0, 1, 2, 255}));
  BOOST_TEST(ratio.get() == 0.25);
  data.set(Bytes{});  // empty values are values too
  BOOST_TEST(data.get().empty());
  auto dump = client->dump("text");
  BOOST_TEST(dump["variables"][0]["last_writer_pid"] == child);
}

BOOST_AUTO_TEST_CASE(wait_for_change_wakes_a_waiter_in_another_process_within_100ms) {
  auto stamp = client->create<std::int64_t>("stamp", 0);
  auto waiting = client->create<bool>("waiting", false);
  auto latency = client->create<std::int64_t>("latency_ns", -1);
  pid_t child = spawn([&] {
    std::uint64_t seen = stamp.version();
    waiting.set(true);
    stamp.wait_for_change(seen, 5s);
    latency.set(core::now_ns() - stamp.get());
    return 0;
  });
  BOOST_REQUIRE(eventually([&] { return waiting.get(); }, 5s));
  stamp.set(core::now_ns());
  BOOST_TEST(wait_exit(child).value() == 0);
  BOOST_TEST(latency.get() >= 0);
  BOOST_TEST(latency.get() < 100'000'000, "woke after " << latency.get() << " ns");
}

BOOST_AUTO_TEST_CASE(wait_for_change_times_out_when_nothing_changes) {
  auto v = client->create<std::int64_t>("quiet", 0);
  auto start = std::chrono::steady_clock::now();
  BOOST_TEST(v.wait_for_change(v.version(), 30ms) == v.version());
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 30ms));
}

BOOST_AUTO_TEST_CASE(binding_checks_existence_and_type) {
  client->create<std::int64_t>("typed", 1);
  BOOST_TEST((error_of([&] { client->value<std::string>("typed"); }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] { client->value<std::int64_t>("absent"); }) == errc::not_found));
  BOOST_TEST((error_of([&] { client->value<std::int64_t>("bad name"); }) == errc::invalid_name));
  BOOST_TEST((error_of([&] { client->create<std::int64_t>("typed"); }) == errc::already_exists));
  BOOST_TEST(client->value_or_create<std::int64_t>("typed", 5).get() == 1);
}

BOOST_AUTO_TEST_CASE(a_deleted_variable_is_not_found_through_old_proxies) {
  auto v = client->create<std::int64_t>("doomed", 3);
  client->remove("doomed");
  BOOST_TEST((error_of([&] { v.get(); }) == errc::not_found));
  BOOST_TEST((error_of([&] { v.set(1); }) == errc::not_found));
  BOOST_TEST((error_of([&] { client->remove("doomed"); }) == errc::not_found));
}

BOOST_AUTO_TEST_CASE(the_socket_transport_offers_the_same_proxy_api) {
  Client remote = new_client(Transport::socket);
  BOOST_TEST(!remote.is_local());
  BOOST_TEST(client->is_local());
  auto n = remote.create<std::int64_t>("r/n", 10);
  BOOST_TEST(n.add(5) == 15);
  std::int64_t expected = 1;
  BOOST_TEST(!n.compare_exchange(expected, 2));
  BOOST_TEST(expected == 15);
  BOOST_TEST(n.compare_exchange(expected, 20));
  BOOST_TEST(n.update([](std::int64_t v) { return v * 2; }) == 40);
  BOOST_TEST(client->value<std::int64_t>("r/n").get() == 40);  // the local view agrees
  auto s = remote.create<std::string>("r/s", "a");
  s.set("remote");
  BOOST_TEST(s.get() == "remote");
  auto b = remote.create<Bytes>("r/b", Bytes{9, 8});
  BOOST_TEST((b.get() == Bytes{9, 8}));
  auto j = remote.create<json>("r/j", json{{"x", 1}});
  BOOST_TEST(j.get()["x"] == 1);
  std::uint64_t seen = n.version();
  pid_t child = spawn([&] {
    client->value<std::int64_t>("r/n").set(99);
    return 0;
  });
  BOOST_TEST(n.wait_for_change(seen, 5s) != seen);
  BOOST_TEST(wait_exit(child).value() == 0);
  BOOST_TEST(n.get() == 99);
  BOOST_TEST(remote.list("r/").size() == 4u);
  BOOST_TEST((error_of([&] { remote.value<std::string>("r/n"); }) == errc::type_mismatch));
}

BOOST_AUTO_TEST_SUITE_END()
