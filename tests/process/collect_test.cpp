// SPDX-License-Identifier: MIT
// Collectable variables (an unnamed Python proxy's): removed, with the variables
// under "<name>/", once no process holds them bound: when the last proxy goes (the
// client's collect), or when its last holder died (the manager's sweep). Named
// variables never go this way.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

namespace {

struct collect_fixture : manager_fixture {
  std::uint64_t collected() { return client->request({{"op", "stat"}})["variables_collected"].get<std::uint64_t>(); }
  std::uint64_t collect(const std::string& n) {
    return client->request({{"op", "collect"}, {"name", n}})["removed"].get<std::uint64_t>();
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(collect, collect_fixture)

BOOST_AUTO_TEST_CASE(a_collectable_variable_goes_with_its_last_proxy_and_takes_its_keys_along) {
  auto anchor = std::make_optional(client->create<std::int64_t>("c/dict", 0));
  client->create<std::string>("c/dict/a", "x", 16);
  client->create<std::int64_t>("c/dict/b", 2);
  client->create<std::int64_t>("c/dictionary", 3);  // a neighbour, not under "c/dict/"
  BOOST_TEST(client->set_collectable("c/dict", true));
  BOOST_TEST(collect("c/dict") == 0u);  // bound here: it stays
  BOOST_TEST(client->list("c/").size() == 4u);
  const std::uint64_t before = collected();
  anchor.reset();  // the last binding anywhere
  BOOST_TEST(client->list("c/") == std::vector<std::string>{"c/dictionary"});
  BOOST_TEST(collected() == before + 3);
  BOOST_TEST(collect("c/dict") == 0u);  // gone already: nothing to do, no error
}

BOOST_AUTO_TEST_CASE(named_and_pinned_variables_are_never_collected) {
  client->create<std::int64_t>("c/named", 1);
  BOOST_TEST(collect("c/named") == 0u);
  auto pinned = std::make_optional(client->create<std::int64_t>("c/pinned", 1));
  BOOST_TEST(client->set_collectable("c/pinned", true));
  BOOST_TEST(client->set_collectable("c/pinned", false));
  pinned.reset();
  BOOST_TEST(collect("c/pinned") == 0u);
  BOOST_TEST(client->list("c/") == (std::vector<std::string>{"c/named", "c/pinned"}));
  BOOST_TEST(!client->set_collectable("c/absent", true));
}

BOOST_AUTO_TEST_CASE(a_holder_in_another_process_keeps_it_and_its_death_lets_the_sweep_collect_it) {
  auto mine = std::make_optional(client->create<std::string>("c/held", "v", 16));
  BOOST_TEST(client->set_collectable("c/held", true));
  pid_t child = child_holding([&] { new Value<std::string>(Client(name).value<std::string>("c/held")); });
  mine.reset();
  BOOST_TEST(client->type_of("c/held").has_value());  // the child holds it
  kill_now(child);                                    // it sends no collect: the manager's sweep finds it unheld
  BOOST_TEST(eventually([&] { return !client->type_of("c/held").has_value(); }, 10s));
}

BOOST_AUTO_TEST_CASE(a_grown_variable_stays_collectable) {
  auto text = std::make_optional(client->create<std::string>("c/grows", "", 16));
  BOOST_TEST(client->set_collectable("c/grows", true));
  text->set(std::string(100'000, 'g'));  // moves it to a larger record
  BOOST_TEST(text->get().size() == 100'000u);
  text.reset();
  BOOST_TEST(eventually([&] { return !client->type_of("c/grows").has_value(); }, 10s));
}

BOOST_AUTO_TEST_CASE(only_a_mapped_segment_counts_bindings_so_only_there_is_a_variable_collectable) {
  client->create<std::int64_t>("c/remote", 1);
  Client remote = new_client(Transport::socket);
  BOOST_TEST(!remote.set_collectable("c/remote", true));
  BOOST_TEST(collect("c/remote") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
