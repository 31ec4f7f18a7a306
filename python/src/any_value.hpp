// SPDX-License-Identifier: MIT
// A Value<T> of whichever type the variable has: what a Python proxy (or a dict
// key) holds, since Python values carry their type at run time.
#pragma once

#include <type_traits>
#include <variant>

#include "bindings.hpp"

namespace mpstate::python {

using any_value = std::variant<Value<std::int64_t>, Value<std::uint64_t>, Value<double>, Value<bool>,
                               Value<std::string>, Value<Bytes>, Value<nlohmann::json>>;

// Binds the variable `name` as the type it has. Throws not_found, and
// type_mismatch for a variable that is not a plain value (a queue, a lock, ...).
any_value bind_any(const Client& client, const std::string& name);

// The Python value of a T, and the T of a Python value (TypeError when it is not one).
// (codec: how a json variable keeps what JSON cannot hold; the others ignore it.)
template <class T>
py::object to_py(const T& v, serializer codec);
template <class T>
T from_py(py::handle v, serializer codec);

py::object get_any(const any_value& v, serializer codec);
void set_any(any_value& v, py::handle value, serializer codec);
// any_value's alternatives by index, and the mpstate type names in that order:
// any_type_names[v.index()].
enum any_type : std::size_t { any_int64, any_uint64, any_double, any_bool, any_string, any_bytes, any_json };
static_assert(std::is_same_v<std::variant_alternative_t<any_int64, any_value>, Value<std::int64_t>> &&
              std::is_same_v<std::variant_alternative_t<any_uint64, any_value>, Value<std::uint64_t>> &&
              std::is_same_v<std::variant_alternative_t<any_double, any_value>, Value<double>> &&
              std::is_same_v<std::variant_alternative_t<any_bool, any_value>, Value<bool>> &&
              std::is_same_v<std::variant_alternative_t<any_string, any_value>, Value<std::string>> &&
              std::is_same_v<std::variant_alternative_t<any_bytes, any_value>, Value<Bytes>> &&
              std::is_same_v<std::variant_alternative_t<any_json, any_value>, Value<nlohmann::json>>);
inline constexpr const char* any_type_names[] = {"int64", "uint64", "double", "bool", "string", "bytes", "json"};
// The mpstate type name of what `v` holds ("int64", "string", ...).
std::string type_of_any(const any_value& v);
// The any_value index of the type a Python value is stored as (type_name_for).
std::size_t type_index_for(py::handle value, serializer codec);

}  // namespace mpstate::python
