// SPDX-License-Identifier: MIT
// Dict and Namespace across real processes: exact per-key updates under contention,
// iteration that never fails under concurrent writers and erasers, and the key rules.
#include <boost/test/unit_test.hpp>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using namespace std::chrono;
using nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(dicts, manager_fixture)

BOOST_AUTO_TEST_CASE(three_processes_updating_ten_keys_count_exactly) {
  std::vector<pid_t> children;
  for (int p = 0; p < 3; ++p) {
    children.push_back(spawn([&] {
      auto counts = Client(name).dict<std::int64_t>("counts");
      for (int i = 0; i < 500; ++i) counts.update("k" + std::to_string(i % 10), [](std::int64_t v) { return v + 1; });
      return 0;
    }));
  }
  for (pid_t c : children) BOOST_TEST(wait_exit(c, 60s).value() == 0);
  auto counts = client->dict<std::int64_t>("counts");
  BOOST_TEST(counts.size() == 10u);
  std::int64_t total = 0;
  for (const auto& [key, n] : counts.items()) {
    BOOST_TEST(n == 150, key);
    total += n;
  }
  BOOST_TEST(total == 1500);
}

BOOST_AUTO_TEST_CASE(iteration_never_fails_while_another_process_sets_and_erases) {
  auto d = client->dict<std::string>("churn");
  pid_t churner = spawn([&] {
    auto mine = Client(name).dict<std::string>("churn");
    for (int round = 0; round < 300; ++round) {
      for (int k = 0; k < 20; ++k) {
        const std::string key = "k" + std::to_string(k);
        if ((round + k) % 3 == 0)
          mine.erase(key);
        else
          mine.set(key, key + "=" + std::string(static_cast<std::size_t>(round % 50), 'v'));
      }
    }
    return 0;
  });
  BOOST_REQUIRE(eventually([&] { return d.size() > 0; }, 10s));
  std::size_t seen = 0;
  for (int pass = 0; pass < 300; ++pass) {            // a bounded number: a reader that lists in a tight loop holds
    for (const auto& [key, value] : d.items()) {      // the directory lock often and slows the creator down
      BOOST_REQUIRE(value.rfind(key + "=", 0) == 0);  // each value belongs to its key, whole
      ++seen;
    }
  }
  BOOST_TEST(wait_exit(churner, 60s).value() == 0);
  BOOST_TEST(seen > 0u);
}

BOOST_AUTO_TEST_CASE(keys_behave_like_a_python_dict) {
  auto d = client->dict<json>("cfg");
  BOOST_TEST(d.size() == 0u);
  BOOST_TEST(!d.find("a").has_value());
  BOOST_TEST((error_of([&] { d.get("a"); }) == errc::not_found));
  BOOST_TEST(d.get_or("a", 7) == 7);
  d.set("a", {{"x", 1}});
  d.set("b", json::array({1, 2}));
  d.set("a", {{"x", 2}});
  BOOST_TEST(d.get("a")["x"] == 2);
  BOOST_TEST(d.contains("b"));
  BOOST_TEST((d.keys() == std::vector<std::string>{"a", "b"}));
  client->create<std::int64_t>("cfg/deeper/c", 1);  // not a key: one level only
  BOOST_TEST(d.size() == 2u);
  BOOST_TEST(d.erase("b"));
  BOOST_TEST(!d.erase("b"));
  BOOST_TEST((error_of([&] { d.set("a/b", 1); }) == errc::invalid_name));
  BOOST_TEST((error_of([&] { d.set("..", 1); }) == errc::invalid_name));
  BOOST_TEST((error_of([&] { d.set("", 1); }) == errc::invalid_name));
  d.set("big", std::string(5000, 'x'));  // over the default capacity: grows
  BOOST_TEST(d.get("big").get<std::string>().size() == 5000u);
}

BOOST_AUTO_TEST_CASE(a_key_deleted_elsewhere_is_looked_up_again) {
  auto d = client->dict<std::int64_t>("re");
  d.set("n", 1);
  BOOST_TEST(d.get("n") == 1);  // bound and cached now
  Client other(name);
  other.remove("re/n");
  BOOST_TEST(!d.find("n").has_value());
  other.create<std::int64_t>("re/n", 5);
  BOOST_TEST(d.get("n") == 5);
  d.set("n", 6);
  BOOST_TEST(other.value<std::int64_t>("re/n").get() == 6);
  other.remove("re/n");
  d.set("n", 9);  // the cached binding is stale: set creates the key again
  BOOST_TEST(other.value<std::int64_t>("re/n").get() == 9);
}

BOOST_AUTO_TEST_CASE(the_socket_transport_sees_the_same_dict) {
  Client remote = new_client(Transport::socket);
  auto far = remote.dict<std::string>("net");
  far.set("greeting", "hello");
  BOOST_TEST(client->dict<std::string>("net").get("greeting") == "hello");
  BOOST_TEST(far.update("greeting", [](std::string s) { return s + "!"; }) == "hello!");
  BOOST_TEST((far.keys() == std::vector<std::string>{"greeting"}));
  BOOST_TEST(client->dump("net/")["variables"][0]["value"] == "hello!");
}

BOOST_AUTO_TEST_CASE(a_namespace_holds_values_of_any_type_by_attribute) {
  auto ns = client->ns("app");
  ns.set<std::int64_t>("retries", 3);
  ns.set<std::string>("mode", "fast");
  ns.set<bool>("ready", true);
  ns.set<std::int64_t>("retries", 4);
  BOOST_TEST(ns.get<std::int64_t>("retries") == 4);
  BOOST_TEST(ns.get<std::string>("mode") == "fast");
  BOOST_TEST((error_of([&] { ns.get<double>("mode"); }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] { ns.set<double>("mode", 1.5); }) == errc::type_mismatch));
  BOOST_TEST((error_of([&] { ns.get<std::int64_t>("nope"); }) == errc::not_found));
  BOOST_TEST((ns.names() == std::vector<std::string>{"mode", "ready", "retries"}));
  BOOST_TEST(ns.to_json() == (json{{"mode", "fast"}, {"ready", true}, {"retries", 4}}));
  pid_t child = spawn([&] { return Client(name).ns("app").get<std::int64_t>("retries") == 4 ? 0 : 1; });
  BOOST_TEST(wait_exit(child).value() == 0);
  BOOST_TEST(ns.erase("ready"));
  BOOST_TEST(!ns.has("ready"));
}

BOOST_AUTO_TEST_SUITE_END()
