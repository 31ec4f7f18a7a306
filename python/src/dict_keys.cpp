// SPDX-License-Identifier: MIT
// A Python dict key as the name segment of the dict's variable ("<dict>/<segment>"),
// and back. Names are made of letters, digits, '_', '.' and '-'; keys are what
// Python's dicts take, so:
//   a str of those characters, not starting with '.'   itself ("jobs", "a-1")
//   an int (and a bool or an integral float: equal keys in Python, so one here)
//                                                     ".i" + decimal (".i65", ".i-5")
//   any other str, a float, None, a tuple of these    ".j" + the hex of its JSON text
// so d[65], d["user@example.com"] and d[(1, "a")] all work as in Python, and a key
// always comes back as what was given. Other key types are a TypeError.
#include <cmath>
#include <nlohmann/json.hpp>
#include <pybind11_json/pybind11_json.hpp>

#include "bindings.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/value_codec.hpp"

namespace mpstate::python {
namespace {

bool plain_segment(std::string_view s) {
  if (s.empty() || s[0] == '.') return false;
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// The JSON of a key that is no plain segment: tuples as arrays (read back as tuples).
nlohmann::json key_json(py::handle key) {
  if (key.is_none() || py::isinstance<py::bool_>(key) || py::isinstance<py::int_>(key) ||
      py::isinstance<py::str>(key)) {
    return pyjson::to_json(key);
  }
  if (py::isinstance<py::float_>(key)) {
    const double d = key.cast<double>();
    if (!std::isfinite(d)) throw py::type_error("mpstate dict keys cannot be NaN or infinite floats");
    return d;
  }
  if (py::isinstance<py::tuple>(key)) {
    nlohmann::json items = nlohmann::json::array();
    for (py::handle item : key) items.push_back(key_json(item));
    return items;
  }
  throw py::type_error("mpstate dict keys are str, int, float, bool, None or tuples of them, not " +
                       std::string(py::str(py::type::of(key).attr("__name__"))));
}

py::object key_from_json(const nlohmann::json& j) {
  if (j.is_array()) {
    py::tuple items(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) items[i] = key_from_json(j[i]);
    return items;
  }
  return pyjson::from_json(j);
}

std::string hex_of(const std::string& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string bytes_of_hex(std::string_view hex) {
  auto value = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(value(hex[i]) << 4 | value(hex[i + 1]));
  return out;
}

}  // namespace

std::string_view plain_str_key(py::handle key) {
  if (!PyUnicode_Check(key.ptr())) return {};
  Py_ssize_t size = 0;
  const char* utf8 = PyUnicode_AsUTF8AndSize(key.ptr(), &size);
  if (!utf8) {  // a lone surrogate: key_segment says what it makes of it
    PyErr_Clear();
    return {};
  }
  const std::string_view s(utf8, static_cast<std::size_t>(size));
  return plain_segment(s) ? s : std::string_view{};
}

std::string key_segment(py::handle key) {
  if (py::isinstance<py::str>(key)) {
    std::string s = key.cast<std::string>();
    if (plain_segment(s)) return s;
  } else if (py::isinstance<py::bool_>(key)) {  // True is the key 1 in a Python dict
    return key.cast<bool>() ? ".i1" : ".i0";
  } else if (py::isinstance<py::int_>(key)) {
    return ".i" + std::string(py::str(key));
  } else if (py::isinstance<py::float_>(key)) {
    const double d = key.cast<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.2e18) {  // 1.0 is the key 1
      return ".i" + std::to_string(static_cast<std::int64_t>(d));
    }
  }
  return ".j" + hex_of(core::encode_json_text(key_json(key)));
}

py::object key_of_segment(const std::string& segment) {
  if (segment.rfind(".i", 0) == 0) return py::int_(py::str(segment.substr(2)));
  if (segment.rfind(".j", 0) == 0)
    return key_from_json(nlohmann::json::parse(bytes_of_hex(std::string_view(segment).substr(2))));
  return py::str(segment);
}

}  // namespace mpstate::python
