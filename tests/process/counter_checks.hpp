// SPDX-License-Identifier: MIT
// The Counter checks every channel must pass (counter_test.cpp: the mapped segment
// and the socket; redis_backend_test.cpp: Redis): real processes adding at once end
// at exactly their sum, and what a counter cannot do is refused, changing nothing.
#pragma once

#include <boost/test/unit_test.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "process_fixture.hpp"

namespace mpstate::test {

// `procs` children, each connected by `connect`, add 1 `adds` times, then 2 and -2
// once: the total is exactly initial + procs * adds, read from a new connection too.
inline void counter_adders_end_at_exactly_their_sum(const std::function<Client()>& connect, int procs, int adds) {
  Client c = connect();
  Counter hits = c.counter("c/hits", 7);
  std::vector<pid_t> children;
  for (int p = 0; p < procs; ++p) {
    children.push_back(spawn([&] {
      Client own = connect();
      Counter mine = own.counter("c/hits");
      for (int i = 0; i < adds; ++i) mine.add();
      mine.add(2);
      mine.add(-2);  // negative adds subtract
      return 0;
    }));
  }
  for (pid_t child : children) BOOST_TEST(wait_exit(child, 60s).value_or(-100) == 0);
  BOOST_TEST(hits.get() == 7 + procs * adds);
  BOOST_TEST(connect().counter("c/hits").get() == 7 + procs * adds);
}

inline void a_counter_refuses_set_cas_and_wait_and_binds_only_as_a_counter(Client& c) {
  Counter hits = c.counter("c/refused", 5);
  for (const char* op :
       {R"({"op":"set","name":"c/refused","value":1})", R"({"op":"cas","name":"c/refused","expected":5,"desired":1})",
        R"({"op":"wait","name":"c/refused","version":0,"timeout_ms":10})",
        R"({"op":"add","name":"c/refused","delta":0.5})"}) {
    BOOST_TEST((error_of([&] { c.request(nlohmann::json::parse(op)); }) == errc::type_mismatch), op);
  }
  BOOST_TEST((error_of([&] { c.value<std::int64_t>("c/refused"); }) == errc::type_mismatch));
  c.value_or_create<std::int64_t>("c/plain", 1);
  BOOST_TEST((error_of([&] { c.counter("c/plain"); }) == errc::type_mismatch));
  BOOST_TEST(hits.get() == 5);  // nothing refused changed it
  BOOST_TEST(c.type_of("c/refused").value() == "counter");
  c.remove("c/refused");
  BOOST_TEST((error_of([&] { hits.add(); }) == errc::not_found));
}

}  // namespace mpstate::test
