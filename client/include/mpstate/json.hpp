// SPDX-License-Identifier: MIT
// Opt-in JSON: include this (after or instead of mpstate/mpstate.hpp) to hold
// nlohmann::json values (Value<nlohmann::json>, Queue<nlohmann::json>, dict values),
// and to call what answers in JSON: Client::dump() and Client::request(), a
// synchronisation variable's or a queue's state(), Namespace::to_json().
//
// mpstate.hpp alone declares those calls with nlohmann/json_fwd.hpp and pulls in no
// more of nlohmann: a program that never speaks JSON does not compile it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mpstate/core/value_codec.hpp"
#include "mpstate/mpstate.hpp"

namespace mpstate {

template <>
struct value_traits<nlohmann::json> {
  static constexpr bool scalar = false;
  static constexpr core::value_type type = core::value_type::json;
  static constexpr std::string_view type_name = "json";
  static std::string encode(const nlohmann::json& v) { return core::encode_json_text(v); }
  static nlohmann::json decode(const std::string& bytes) { return nlohmann::json::parse(bytes); }
};

}  // namespace mpstate
