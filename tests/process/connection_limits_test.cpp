// SPDX-License-Identifier: MIT
// Connection limits: past --max-connections a client is refused with a code and
// closed; a connection silent (or stalled half-way through a line) for
// --idle-timeout is closed, a pending wait is not idleness, and a Client whose
// connection was closed reconnects on its next call.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <thread>

#include "process_fixture.hpp"

using namespace mpstate;
using namespace mpstate::test;
using nlohmann::json;

namespace {
struct limited_manager {
  explicit limited_manager(std::vector<std::string> args) {
    ManagerOptions o;
    o.name = unique_name("lim");
    o.executable = MPSTATE_MANAGER_PATH;
    o.extra_args = std::move(args);
    manager.emplace(Manager::start(o));
  }
  std::optional<json> hello(raw_connection& c) {
    c.send(R"({"id":1,"op":"hello"})"
           "\n");
    auto line = c.read_line();
    if (!line) return std::nullopt;
    return json::parse(*line);
  }
  int connections() {
    raw_connection probe(manager->socket_path());
    probe.send(R"({"op":"stat"})"
               "\n");
    return json::parse(probe.read_line().value())["result"]["connections"].get<int>();
  }
  std::optional<Manager> manager;
};
}  // namespace

BOOST_AUTO_TEST_SUITE(connection_limits)

BOOST_AUTO_TEST_CASE(past_the_limit_a_client_is_refused_and_a_freed_place_is_reused) {
  limited_manager m({"--max-connections", "3"});
  std::vector<std::unique_ptr<raw_connection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<raw_connection>(m.manager->socket_path()));
    BOOST_REQUIRE(m.hello(*held.back()).value().contains("result"));
  }
  raw_connection extra(m.manager->socket_path());
  auto refused = m.hello(extra);
  BOOST_REQUIRE(refused.has_value());
  BOOST_TEST((*refused)["error"]["code"] == "too_many_connections");
  BOOST_TEST(extra.closed_by_peer());
  held.pop_back();  // one leaves: its place is free again
  BOOST_TEST(eventually(
      [&] {
        raw_connection again(m.manager->socket_path());
        auto r = m.hello(again);
        return r && r->contains("result");
      },
      5s));
}

BOOST_AUTO_TEST_CASE(silent_and_stalled_connections_are_closed_after_the_idle_timeout) {
  limited_manager m({"--idle-timeout", "0.2"});
  raw_connection silent(m.manager->socket_path());
  raw_connection stalled(m.manager->socket_path());
  stalled.send(R"({"op":"get","na)");  // half a line, then nothing
  raw_connection active(m.manager->socket_path());
  // The active one asks every 50 ms for 0.6 s (three timeouts) and is answered throughout.
  for (int i = 0; i < 12; ++i) {
    auto r = m.hello(active);
    BOOST_REQUIRE_MESSAGE(r.has_value(), "active connection dropped at request " << i);
    std::this_thread::sleep_for(50ms);  // pacing the client, not synchronising
  }
  BOOST_TEST(silent.closed_by_peer(3s));
  BOOST_TEST(stalled.closed_by_peer(3s));
}

BOOST_AUTO_TEST_CASE(a_pending_wait_is_not_idleness) {
  limited_manager m({"--idle-timeout", "0.2"});
  m.manager->connect(Transport::socket).create<std::int64_t>("w", 0);
  raw_connection c(m.manager->socket_path());
  auto start = std::chrono::steady_clock::now();
  c.send(R"({"id":5,"op":"wait","name":"w","version":1,"timeout_ms":700})"
         "\n");
  auto line = c.read_line(5s);
  BOOST_REQUIRE(line.has_value());
  BOOST_TEST(json::parse(*line)["result"]["changed"] == false);
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 700ms));
}

BOOST_AUTO_TEST_CASE(a_client_whose_connection_timed_out_reconnects_on_its_next_call) {
  limited_manager m({"--idle-timeout", "0.2"});
  Client remote = m.manager->connect(Transport::socket);
  auto v = remote.create<std::int64_t>("n", 1);
  BOOST_REQUIRE(eventually([&] { return m.connections() == 1; }, 5s));  // only the probe is left
  BOOST_TEST(v.add(1) == 2);
}

BOOST_AUTO_TEST_SUITE_END()
