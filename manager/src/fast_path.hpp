// SPDX-License-Identifier: MIT
// The commonest request, answered without building JSON trees: a `get` of a scalar
// (int64, uint64, double, bool) in the plain shape clients send,
//   {"op":"get","name":"N"}   with an optional integer "id", keys in any order.
// parse_plain_get recognises only that shape (names without escapes or non-ASCII
// bytes, no duplicate keys); for anything else, and for any error, the request goes
// the general way (request_handler::handle), which makes the same calls. The answer
// is byte for byte the one the general path writes (format_get_answer).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mpstate/core/protocol.hpp"

namespace mpstate::manager {

struct plain_get {
  std::string_view name;
  std::string_view id;  // the integer's text as sent; empty: no id (answered null)
};
std::optional<plain_get> parse_plain_get(std::string_view line) noexcept;

// {"id":ID,"result":{"type":T,"value":V,"version":N}} and '\n', as to_line writes
// make_result(id, {value, version, type}).
std::string format_get_answer(std::string_view id, std::string_view type, const core::json& value,
                              std::uint64_t version);

}  // namespace mpstate::manager
