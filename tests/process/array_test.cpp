// SPDX-License-Identifier: MIT
// Array and List across real processes: exact item updates under contention, bulk
// copies under one lock, a list that grows while other processes stay bound, and
// the errors (index out of range, a fixed size, another element type).
#include <boost/test/unit_test.hpp>
#include <mutex>
#include <nlohmann/json.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(arrays, manager_fixture)

BOOST_AUTO_TEST_CASE(four_processes_appending_to_one_list_lose_nothing_while_it_grows) {
  constexpr int per_process = 500;
  auto list = client->list_of<std::int64_t>("l/all");
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    children.push_back(spawn([&, p] {
      auto mine = Client(name).list_of<std::int64_t>("l/all");  // bound while the list is small
      for (int i = 0; i < per_process; ++i) mine.append(p * per_process + i);
      return 0;
    }));
  }
  for (pid_t c : children) BOOST_TEST(wait_exit(c, 60s).value() == 0);
  std::vector<std::int64_t> got = list.to_vector();  // the old binding follows the moves
  BOOST_REQUIRE(got.size() == 4u * per_process);
  std::sort(got.begin(), got.end());
  for (int i = 0; i < 4 * per_process; ++i) BOOST_REQUIRE(got[static_cast<std::size_t>(i)] == i);
  BOOST_TEST(client->dump("l/")["variables"][0]["capacity"].get<std::uint64_t>() >= 8u + 8 * 2000);
}

BOOST_AUTO_TEST_CASE(array_items_written_by_four_processes_are_exact) {
  auto slots = client->array<std::int64_t>("a/slots", 5);
  client->lock("a/lock");
  std::vector<pid_t> children;
  for (int p = 0; p < 4; ++p) {
    children.push_back(spawn([&, p] {
      Client c(name);
      auto mine = c.array<std::int64_t>("a/slots", 5);
      auto l = c.lock("a/lock");
      for (int i = 0; i < 1000; ++i) {
        mine.set(p, mine.get(p) + 1);  // its own item: no lock needed
        std::lock_guard guard(l);
        mine.set(-1, mine.get(-1) + 1);  // the last item, shared: under the lock
      }
      return 0;
    }));
  }
  for (pid_t c : children) BOOST_TEST(wait_exit(c, 60s).value() == 0);
  BOOST_TEST((slots.to_vector() == std::vector<std::int64_t>{1000, 1000, 1000, 1000, 4000}));
}

BOOST_AUTO_TEST_CASE(bulk_copies_happen_under_one_lock) {
  auto arr = client->array<double>("a/pair", 2);
  pid_t writer = spawn([&] {
    auto mine = Client(name).array<double>("a/pair", 2);
    for (int i = 0; i < 20000; ++i) mine.assign({static_cast<double>(i), static_cast<double>(-i)});
    return 0;
  });
  int checked = 0;
  while (!wait_exit(writer, 0ms).has_value()) {
    std::vector<double> v = arr.to_vector();
    BOOST_REQUIRE(v[0] == -v[1]);  // never one item of one assign and one of another
    ++checked;
  }
  BOOST_TEST(checked > 0);
}

BOOST_AUTO_TEST_CASE(a_list_behaves_like_a_python_list) {
  auto l = client->list_of<std::int64_t>("l/py");
  BOOST_TEST(l.size() == 0u);
  BOOST_TEST((error_of([&] { l.pop(); }) == errc::out_of_range));
  l.extend({1, 2, 3});
  l.insert(0, 0);
  l.insert(100, 4);  // past the end appends
  l.insert(-1, 9);   // before the last
  BOOST_TEST((l.to_vector() == std::vector<std::int64_t>{0, 1, 2, 3, 9, 4}));
  BOOST_TEST(l.pop() == 4);
  BOOST_TEST(l.pop(0) == 0);
  BOOST_TEST(l.get(-1) == 9);
  BOOST_TEST((error_of([&] { l.get(4); }) == errc::out_of_range));
  BOOST_TEST((error_of([&] { l.set(-5, 1); }) == errc::out_of_range));
  l.clear();
  BOOST_TEST(l.size() == 0u);
}

BOOST_AUTO_TEST_CASE(an_array_keeps_its_size_and_its_element_type) {
  auto a = client->array<bool>("a/flags", 3);
  BOOST_TEST((a.to_vector() == std::vector<bool>{false, false, false}));
  a.set(1, true);
  BOOST_TEST((error_of([&] { a.assign({true}); }) == errc::invalid_argument));
  BOOST_TEST((error_of([&] { client->array<std::int64_t>("a/flags", 3); }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] {
                client->request({{"op", "list_append"}, {"name", "a/flags"}, {"value", true}});
              }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] {
                client->request(
                    {{"op", "create"}, {"name", "a/s"}, {"type", "array"}, {"value", {{"of", "string"}, {"size", 2}}}});
              }) == errc::invalid_argument));
  BOOST_TEST((error_of([&] {
                client->request({{"op", "item_set"}, {"name", "a/flags"}, {"index", 0}, {"value", "yes"}});
              }) == errc::type_mismatch));
  auto table = run_command(std::string(MPSTATE_DUMP_PATH) + " " + name + " a/");
  BOOST_TEST(table.output.find("bool[3] [false,true,false]") != std::string::npos, table.output);
}

BOOST_AUTO_TEST_CASE(the_socket_transport_reads_and_grows_the_same_list) {
  Client remote = new_client(Transport::socket);
  auto far = remote.list_of<double>("l/net");
  for (int i = 0; i < 100; ++i) far.append(i * 0.5);  // grows in the manager
  auto near = client->list_of<double>("l/net");
  BOOST_TEST(near.size() == 100u);
  BOOST_TEST(near.get(-1) == 49.5);
  near.set(0, 7.25);
  BOOST_TEST(far.get(0) == 7.25);
  BOOST_TEST(far.pop() == 49.5);
  far.insert(1, 1.5);
  BOOST_TEST(near.get(1) == 1.5);
  BOOST_TEST(far.to_vector().size() == 100u);
}

BOOST_AUTO_TEST_SUITE_END()
