// SPDX-License-Identifier: MIT
// One table of behaviours, run unchanged against every channel (behaviour_test.cpp:
// the manager over its socket; redis_backend_test.cpp: Redis), so the manager's C++
// and the Redis backend's Lua cannot drift apart unseen. The rule (docs/design.md,
// "One behaviour, two backends"): a behaviour both backends show goes in this
// table, and a change to either backend's ops keeps the table passing on both.
//
// Each row is a story of raw requests (docs/protocol.md) on variables under a prefix
// of its own; each step expects an error code, or a result that contains the given
// fields with the given values.
#pragma once

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "process_fixture.hpp"

namespace mpstate::test {

struct behaviour_step {
  nlohmann::json request;   // "name" is prefixed with the row's prefix
  nlohmann::json expected;  // {"error": code} or fields the result must hold
};
struct behaviour_row {
  const char* story;
  std::vector<behaviour_step> steps;
};

inline const std::vector<behaviour_row>& behaviour_table() {
  using nlohmann::json;
  static const std::vector<behaviour_row> rows = {
      {"an int64 adds, refuses overflow and other types, compares and swaps, and is deleted",
       {{{{"op", "create"}, {"name", "n"}, {"type", "int64"}, {"value", 5}}, {{"type", "int64"}}},
        {{{"op", "get"}, {"name", "n"}}, {{"value", 5}, {"type", "int64"}}},
        {{{"op", "add"}, {"name", "n"}, {"delta", 3}}, {{"value", 8}}},
        {{{"op", "add"}, {"name", "n"}, {"delta", INT64_MAX}}, {{"error", "out_of_range"}}},
        {{{"op", "set"}, {"name", "n"}, {"value", "text"}}, {{"error", "type_mismatch"}}},
        {{{"op", "add"}, {"name", "n"}, {"delta", 0.5}}, {{"error", "type_mismatch"}}},
        {{{"op", "cas"}, {"name", "n"}, {"expected", 1}, {"desired", 2}}, {{"ok", false}, {"value", 8}}},
        {{{"op", "cas"}, {"name", "n"}, {"expected", 8}, {"desired", 2}}, {{"ok", true}}},
        {{{"op", "get"}, {"name", "n"}}, {{"value", 2}}},
        {{{"op", "create"}, {"name", "n"}, {"type", "int64"}}, {{"error", "already_exists"}}},
        {{{"op", "delete"}, {"name", "n"}}, json::object()},
        {{{"op", "get"}, {"name", "n"}}, {{"error", "not_found"}}},
        {{{"op", "delete"}, {"name", "n"}}, {{"error", "not_found"}}}}},
      {"set makes a variable of its value's type, and each type keeps its own",
       {{{{"op", "set"}, {"name", "s"}, {"value", "hi"}}, json::object()},
        {{{"op", "get"}, {"name", "s"}}, {{"value", "hi"}, {"type", "string"}}},
        {{{"op", "add"}, {"name", "s"}, {"delta", 1}}, {{"error", "type_mismatch"}}},
        {{{"op", "cas"}, {"name", "s"}, {"expected", "hi"}, {"desired", "ho"}}, {{"ok", true}}},
        {{{"op", "set"}, {"name", "b"}, {"value", true}}, json::object()},
        {{{"op", "get"}, {"name", "b"}}, {{"value", true}, {"type", "bool"}}},
        {{{"op", "set"}, {"name", "d"}, {"value", 1.5}}, json::object()},
        {{{"op", "add"}, {"name", "d"}, {"delta", 0.25}}, {{"value", 1.75}}},
        {{{"op", "set"}, {"name", "j"}, {"value", {{"a", {1, 2}}}}}, json::object()},
        {{{"op", "get"}, {"name", "j"}}, {{"value", {{"a", {1, 2}}}}, {"type", "json"}}},
        {{{"op", "set"}, {"name", "u"}, {"value", UINT64_MAX}}, json::object()},
        {{{"op", "get"}, {"name", "u"}}, {{"value", UINT64_MAX}, {"type", "uint64"}}}}},
      {"bad requests get their codes",
       {{{{"op", "create"}, {"name", "t"}, {"type", "float128"}}, {{"error", "invalid_type"}}},
        {{{"op", "create"}, {"name", "t"}, {"type", "int64"}}, {{"type", "int64"}}},
        {{{"op", "add"}, {"name", "t"}}, {{"error", "missing_field"}}},
        {{{"op", "add"}, {"name", "missing"}, {"delta", 1}}, {{"error", "not_found"}}},
        {{{"op", "get"}, {"name", "a//b"}}, {{"error", "invalid_name"}}}}},
      {"a counter adds and reads its total and refuses set, cas and wait",
       {{{{"op", "create"}, {"name", "c"}, {"type", "counter"}, {"value", 5}}, {{"type", "counter"}}},
        {{{"op", "add"}, {"name", "c"}, {"delta", 2}}, {{"value", 7}}},
        {{{"op", "get"}, {"name", "c"}}, {{"value", 7}, {"type", "counter"}}},
        {{{"op", "set"}, {"name", "c"}, {"value", 1}}, {{"error", "type_mismatch"}}},
        {{{"op", "cas"}, {"name", "c"}, {"expected", 7}, {"desired", 1}}, {{"error", "type_mismatch"}}},
        {{{"op", "wait"}, {"name", "c"}, {"version", 0}, {"timeout_ms", 10}}, {{"error", "type_mismatch"}}}}},
      {"a bounded queue takes items up to its size and gives them back in order",
       {{{{"op", "create"}, {"name", "q"}, {"type", "queue"}, {"value", {{"of", "int64"}, {"maxsize", 2}}}},
         {{"type", "queue"}}},
        {{{"op", "queue_put"}, {"name", "q"}, {"value", 1}}, {{"ok", true}}},
        {{{"op", "queue_put"}, {"name", "q"}, {"value", 2}}, {{"ok", true}}},
        {{{"op", "queue_put"}, {"name", "q"}, {"value", 3}}, {{"ok", false}}},
        {{{"op", "queue_get"}, {"name", "q"}}, {{"ok", true}, {"value", 1}}},
        {{{"op", "queue_get"}, {"name", "q"}}, {{"ok", true}, {"value", 2}}},
        {{{"op", "queue_get"}, {"name", "q"}}, {{"ok", false}}},
        {{{"op", "set"}, {"name", "q"}, {"value", 1}}, {{"error", "type_mismatch"}}}}},
      {"a list grows and shrinks at either end, and an array keeps its size",
       {{{{"op", "create"}, {"name", "l"}, {"type", "list"}, {"value", {{"of", "int64"}, {"items", {1, 2}}}}},
         {{"type", "list"}}},
        {{{"op", "list_append"}, {"name", "l"}, {"value", 3}}, {{"size", 3}}},
        {{{"op", "item_get"}, {"name", "l"}, {"index", -1}}, {{"value", 3}}},
        {{{"op", "list_pop"}, {"name", "l"}}, {{"value", 3}}},
        {{{"op", "item_get"}, {"name", "l"}, {"index", 5}}, {{"error", "out_of_range"}}},
        {{{"op", "create"}, {"name", "a"}, {"type", "array"}, {"value", {{"of", "double"}, {"size", 2}}}},
         {{"type", "array"}}},
        {{{"op", "item_set"}, {"name", "a"}, {"index", 1}, {"value", 1.5}}, json::object()},
        {{{"op", "item_get"}, {"name", "a"}, {"index", 1}}, {{"value", 1.5}}},
        {{{"op", "list_append"}, {"name", "a"}, {"value", 1}}, {{"error", "type_mismatch"}}}}},
      {"a lock is taken once, released by its holder, and an event is set and cleared",
       {{{{"op", "create"}, {"name", "k"}, {"type", "lock"}}, {{"type", "lock"}}},
        {{{"op", "acquire"}, {"name", "k"}}, {{"acquired", true}}},
        {{{"op", "release"}, {"name", "k"}}, json::object()},
        {{{"op", "release"}, {"name", "k"}}, {{"error", "invalid_argument"}}},
        {{{"op", "create"}, {"name", "e"}, {"type", "event"}}, {{"type", "event"}}},
        {{{"op", "event_set"}, {"name", "e"}, {"set", true}}, json::object()},
        {{{"op", "get"}, {"name", "e"}}, {{"value", {{"set", true}}}}},
        {{{"op", "event_set"}, {"name", "e"}, {"set", false}}, json::object()},
        {{{"op", "get"}, {"name", "e"}}, {{"value", {{"set", false}}}}}}},
  };
  return rows;
}

// Whether `result` holds every field of `expected` with its value (objects: the
// same, field by field, recursively; anything else: equal).
// An error answer holds only an expected error: {} expects success, and nothing else.
inline bool holds(const nlohmann::json& result, const nlohmann::json& expected) {
  if (!expected.is_object() || !result.is_object()) return result == expected;
  if (result.contains("error") && !expected.contains("error")) return false;
  for (const auto& [key, value] : expected.items()) {
    if (!result.contains(key) || !holds(result.at(key), value)) return false;
  }
  return true;
}

// Runs every row against `c`, its names under `prefix`.
inline void every_behaviour_in_the_table_holds(Client& c, const std::string& prefix) {
  int row = 0;
  for (const behaviour_row& r : behaviour_table()) {
    const std::string under = prefix + "/r" + std::to_string(row++) + "/";
    for (const behaviour_step& step : r.steps) {
      nlohmann::json request = step.request;
      if (request.contains("name")) request["name"] = under + request["name"].get<std::string>();
      nlohmann::json got;
      try {
        got = c.request(request);
      } catch (const error& e) {
        got = {{"error", std::string(to_string(e.code()))}};
      }
      BOOST_TEST(holds(got, step.expected),
                 r.story << ": " << request.dump() << " gave " << got.dump() << ", expected " << step.expected.dump());
    }
  }
}

}  // namespace mpstate::test
