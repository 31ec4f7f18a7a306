// SPDX-License-Identifier: MIT
// How each C++ type a Value<T> may hold maps to an mpstate type.
//   std::int64_t -> int64, std::uint64_t -> uint64, double -> double, bool -> bool,
//   std::string -> string, mpstate::Bytes -> bytes, nlohmann::json -> json
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate {

using Bytes = std::vector<std::uint8_t>;

template <class T>
struct value_traits;  // only the types below

template <class T>
struct scalar_value_traits {
  static constexpr bool scalar = true;
  static nlohmann::json to_json(T v) { return v; }
  static T from_json(const nlohmann::json& j) { return j.get<T>(); }
};
template <>
struct value_traits<std::int64_t> : scalar_value_traits<std::int64_t> {
  static constexpr core::value_type type = core::value_type::int64;
  static constexpr std::string_view type_name = "int64";
};
template <>
struct value_traits<std::uint64_t> : scalar_value_traits<std::uint64_t> {
  static constexpr core::value_type type = core::value_type::uint64;
  static constexpr std::string_view type_name = "uint64";
};
template <>
struct value_traits<double> : scalar_value_traits<double> {
  static constexpr core::value_type type = core::value_type::float64;
  static constexpr std::string_view type_name = "double";
  static nlohmann::json to_json(double v) { return core::double_to_json(v); }
  static double from_json(const nlohmann::json& j) {
    if (auto d = core::double_from_json(j)) return *d;
    throw error(errc::type_mismatch, "expected a double, got a JSON " + std::string(j.type_name()));
  }
};
template <>
struct value_traits<bool> : scalar_value_traits<bool> {
  static constexpr core::value_type type = core::value_type::boolean;
  static constexpr std::string_view type_name = "bool";
};

template <>
struct value_traits<std::string> {
  static constexpr bool scalar = false;
  static constexpr core::value_type type = core::value_type::string;
  static constexpr std::string_view type_name = "string";
  static std::string_view encode(const std::string& v) {
    core::check_utf8(v);
    return v;
  }
  static std::string decode(std::string bytes) { return bytes; }
  static nlohmann::json to_json(const std::string& v) { return std::string(encode(v)); }
  static std::string from_json(const nlohmann::json& j) { return j.get<std::string>(); }
};
template <>
struct value_traits<Bytes> {
  static constexpr bool scalar = false;
  static constexpr core::value_type type = core::value_type::bytes;
  static constexpr std::string_view type_name = "bytes";
  static std::string_view encode(const Bytes& v) { return {reinterpret_cast<const char*>(v.data()), v.size()}; }
  static Bytes decode(const std::string& bytes) { return Bytes(bytes.begin(), bytes.end()); }
  static nlohmann::json to_json(const Bytes& v) { return core::base64_encode(encode(v)); }
  static Bytes from_json(const nlohmann::json& j) { return decode(core::base64_decode(j.get<std::string>())); }
};
template <>
struct value_traits<nlohmann::json> {
  static constexpr bool scalar = false;
  static constexpr core::value_type type = core::value_type::json;
  static constexpr std::string_view type_name = "json";
  static std::string encode(const nlohmann::json& v) { return core::encode_json_text(v); }
  static nlohmann::json decode(const std::string& bytes) { return nlohmann::json::parse(bytes); }
  static nlohmann::json to_json(const nlohmann::json& v) { return v; }
  static nlohmann::json from_json(const nlohmann::json& j) { return j; }
};

}  // namespace mpstate
