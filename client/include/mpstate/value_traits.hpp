// SPDX-License-Identifier: MIT
// How each C++ type a Value<T> may hold maps to an mpstate type.
//   std::int64_t -> int64, std::uint64_t -> uint64, double -> double, bool -> bool,
//   std::string -> string, mpstate::Bytes -> bytes,
//   nlohmann::json -> json (opt-in: include "mpstate/json.hpp")
//
// encode()/decode() give a value's element bytes, the one form a value takes outside
// its record: a queue item, and what a proxy hands the library for the wire (which
// turns it into JSON there, core::element_to_json). Scalars are their 8 bytes of bits
// (core::scalar_codec), strings and bytes themselves, json its text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate {

using Bytes = std::vector<std::uint8_t>;

template <class T>
struct value_traits;  // only the types below (and json's, in mpstate/json.hpp)

template <class T>
struct scalar_value_traits {
  static constexpr bool scalar = true;
  static constexpr core::value_type type = core::scalar_codec<T>::type;
  static std::string encode(T v) { return core::scalar_bytes(core::scalar_codec<T>::to_bits(v)); }
  static T decode(const std::string& bytes) { return core::scalar_codec<T>::from_bits(core::scalar_bits(bytes)); }
};
template <>
struct value_traits<std::int64_t> : scalar_value_traits<std::int64_t> {
  static constexpr std::string_view type_name = "int64";
};
template <>
struct value_traits<std::uint64_t> : scalar_value_traits<std::uint64_t> {
  static constexpr std::string_view type_name = "uint64";
};
template <>
struct value_traits<double> : scalar_value_traits<double> {
  static constexpr std::string_view type_name = "double";
};
template <>
struct value_traits<bool> : scalar_value_traits<bool> {
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
};
template <>
struct value_traits<Bytes> {
  static constexpr bool scalar = false;
  static constexpr core::value_type type = core::value_type::bytes;
  static constexpr std::string_view type_name = "bytes";
  static std::string_view encode(const Bytes& v) { return {reinterpret_cast<const char*>(v.data()), v.size()}; }
  static Bytes decode(const std::string& bytes) { return Bytes(bytes.begin(), bytes.end()); }
};

}  // namespace mpstate
