// SPDX-License-Identifier: MIT
// Online growth: a string, bytes or json value that outgrows its buffer is moved by
// the manager to a larger one while every process stays bound; old bindings follow,
// concurrent writers lose nothing, and old records are freed once nobody holds them.
#include <boost/test/unit_test.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {
std::uint64_t capacity_of(const Client& c, const std::string& name) {
  return c.dump(name)["variables"][0]["capacity"].get<std::uint64_t>();
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(growth, manager_fixture)

BOOST_AUTO_TEST_CASE(a_value_over_its_capacity_grows_and_old_bindings_see_it) {
  auto writer = client->create<std::string>("g/s", "ok", 8);
  auto old_reader = client->value<std::string>("g/s");  // bound before the move
  pid_t child_reader = spawn([&] {
    auto mine = Client(name).value<std::string>("g/s");  // bound before the move, too
    std::uint64_t seen = mine.version();
    while (mine.get().size() < 5000) seen = mine.wait_for_change(seen, 10s);
    return mine.get() == std::string(5000, 'z') ? 0 : 1;
  });
  const std::string big(5000, 'z');
  writer.set(big);
  BOOST_TEST(old_reader.get() == big);
  BOOST_TEST(capacity_of(*client, "g/s") >= 5000);
  BOOST_TEST(wait_exit(child_reader, 20s).value() == 0);
  auto bytes = client->create<Bytes>("g/b", Bytes{1, 2}, 2);
  bytes.set(Bytes(3000, 7));
  BOOST_TEST(bytes.get().size() == 3000u);
}

BOOST_AUTO_TEST_CASE(writers_in_three_processes_lose_nothing_while_the_value_moves) {
  constexpr int per_process = 400;
  client->create<json>("g/list", json::array(), 16);
  std::vector<pid_t> writers;
  for (int p = 0; p < 3; ++p) {
    writers.push_back(spawn([&, p] {
      auto list = Client(name).value<json>("g/list");
      for (int i = 0; i < per_process; ++i) {
        list.update([&](json v) {
          v.push_back(p * per_process + i);
          return v;
        });
      }
      return 0;
    }));
  }
  for (pid_t w : writers) BOOST_TEST(wait_exit(w, 60s).value() == 0);
  json got = client->value<json>("g/list").get();
  BOOST_REQUIRE(got.size() == 3u * per_process);
  std::vector<int> all = got.get<std::vector<int>>();
  std::sort(all.begin(), all.end());
  for (int i = 0; i < 3 * per_process; ++i) BOOST_REQUIRE(all[static_cast<std::size_t>(i)] == i);
  BOOST_TEST(capacity_of(*client, "g/list") >= got.dump().size());
}

BOOST_AUTO_TEST_CASE(old_records_are_freed_once_no_process_is_bound) {
  {
    auto s = client->create<std::string>("g/free", "", 8);
    for (std::size_t n = 16; n <= 4096; n *= 2) s.set(std::string(n, 'a'));  // 9 moves
    BOOST_TEST(client->request({{"op", "stat"}})["retired_records"] >= 1);
  }  // the proxy unbinds the last record it followed; the old ones go with the chain
  BOOST_TEST(eventually([&] { return client->request({{"op", "stat"}})["retired_records"] == 0; }, 5s));
  BOOST_TEST(client->value<std::string>("g/free").get().size() == 4096u);
}

BOOST_AUTO_TEST_CASE(a_fork_child_keeps_the_record_of_a_proxy_it_inherited) {
  auto held = std::make_optional(client->create<std::string>("fork/held", "one", 16));
  auto go = client->create<std::int64_t>("fork/go", 0);
  pid_t child = spawn([&] {  // uses the proxy it inherited, as the README's example does
    if (!eventually([&] { return go.get() == 1; }, 10s)) return 1;
    return error_of([&] { held->get(); }) == errc::not_found ? 0 : 2;  // deleted, not freed and reused
  });
  held.reset();                 // the parent drops its proxy ...
  client->remove("fork/held");  // ... and deletes the variable: the child still holds the record
  auto stat = [&] { return client->request({{"op", "stat"}}); };
  BOOST_TEST(stat()["retired_records"] == 1);
  for (int i = 0; i < 20; ++i) client->create<std::string>("fork/reuse/" + std::to_string(i), std::string(40, 'r'));
  go.set(1);
  BOOST_TEST(wait_exit(child, 10s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(the_socket_transport_grows_in_the_manager) {
  Client remote = new_client(Transport::socket);
  auto s = remote.create<std::string>("g/net", "", 4);
  s.set(std::string(1000, 'n'));
  BOOST_TEST(client->value<std::string>("g/net").get() == std::string(1000, 'n'));
  s.update([](std::string v) { return v + v; });
  BOOST_TEST(s.get().size() == 2000u);
}

BOOST_AUTO_TEST_CASE(a_value_the_segment_cannot_hold_is_refused_and_the_old_one_stays) {
  auto s = client->create<std::string>("g/huge", "keep", 8);
  BOOST_TEST((error_of([&] { s.set(std::string(20u << 20, 'h')); }) == errc::segment_full));  // 16 MiB segment
  BOOST_TEST((error_of([&] { s.set(std::string(65u << 20, 'h')); }) == errc::value_too_large));
  BOOST_TEST(s.get() == "keep");
  auto n = client->create<std::int64_t>("g/n", 1);
  BOOST_TEST((error_of([&] {
                client->request({{"op", "grow"}, {"name", "g/n"}, {"capacity", 64}});
              }) == errc::type_mismatch));
}

BOOST_AUTO_TEST_SUITE_END()
