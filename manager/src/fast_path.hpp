// SPDX-License-Identifier: MIT
// The commonest requests, answered without building JSON trees, in the plain shapes
// clients send (keys in any order, an optional integer "id"):
//   {"op":"get","name":"N"}                 a scalar (int64, uint64, double, bool)
//   {"op":"set","name":"N","value":INT}     an existing int64
//   {"op":"add","name":"N","delta":INT}     an existing int64
//   {"op":"cas","name":"N","expected":INT,"desired":INT}   an existing int64
// parse_plain_request recognises only those shapes (names without escapes or
// non-ASCII bytes, integers JSON writes back as sent, no duplicate or other keys);
// anything else, and any error before a write commits, goes the general way
// (request_handler::handle), which makes the same calls. The answers are byte for
// byte the general path's.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "mpstate/core/protocol.hpp"

namespace mpstate::manager {

struct plain_request {
  core::op_code op = core::op_code::get;  // get, set, add or cas
  std::string_view name;
  std::string_view id;       // the integer's text as sent; empty: no id (answered null)
  std::int64_t number = 0;   // set's value, add's delta, cas's expected
  std::int64_t desired = 0;  // cas's desired
};
std::optional<plain_request> parse_plain_request(std::string_view line) noexcept;

// {"id":ID,"result":RESULT} and '\n', as to_line writes make_result(id, result);
// `result` is the object's text.
std::string format_answer(std::string_view id, std::string_view result);
// get's result: {"type":T,"value":V,"version":N}.
std::string get_result(std::string_view type, const core::json& value, std::uint64_t version);

}  // namespace mpstate::manager
