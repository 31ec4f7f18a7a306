// SPDX-License-Identifier: MIT
// Python objects <-> the JSON that mpstate's json values and queue items hold.
//
// Plain JSON both ways: None, bool, int (64 bits), finite float, str, list and tuple
// (a JSON array, read back as a list, as Python's json module does), dict with str
// keys. Two more, each a one-key object {"$mpstate": {...}} that other languages
// can read too (docs/python.md):
//   bytes                                   {"$mpstate": {"kind": "bytes", "base64": "..."}}
//   an mpstate proxy (a dict, list, queue, lock, ... nested in a container)
//                                           {"$mpstate": {"kind": "dict", "manager": ...,
//                                                         "socket": ..., "name": ...}}
// so a proxy stored in a list or dict comes back as a proxy to the same variable,
// as with multiprocessing's managers; the variable itself is never copied, and no
// object is ever pickled. The proxy kinds are mpstate/_proxies.py's (_ref_of,
// _from_ref), called through _core.
#include <pybind11_json/pybind11_json.hpp>

#include <cmath>

#include "bindings.hpp"
#include "mpstate/core/value_codec.hpp"

namespace mpstate::python {
namespace {

using json = nlohmann::json;

constexpr const char* tag = "$mpstate";

std::string type_name(py::handle value) { return py::str(py::type::of(value).attr("__name__")); }

json int_json(py::handle value) {
  try {
    return value.cast<std::int64_t>();
  } catch (const py::cast_error&) {
  }
  try {
    return value.cast<std::uint64_t>();
  } catch (const py::cast_error&) {
    throw error(errc::out_of_range, "the int " + std::string(py::str(value)).substr(0, 40) +
                                        " does not fit in 64 bits: mpstate keeps ints from -2**63 to 2**64-1");
  }
}

json convert(py::handle value, int depth);

json container_json(py::handle value, int depth) {
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    json items = json::array();
    for (py::handle item : value) items.push_back(convert(item, depth + 1));
    return items;
  }
  json object = json::object();
  for (auto [key, item] : py::reinterpret_borrow<py::dict>(value)) {
    if (!py::isinstance<py::str>(key)) {
      throw py::type_error("a dict inside a stored value has str keys only (JSON), not " + type_name(key) +
                           " (an mpstate dict proxy takes int and tuple keys)");
    }
    std::string k = key.cast<std::string>();
    if (k == tag) throw py::value_error(std::string("the key '") + tag + "' is mpstate's own in stored dicts");
    object[std::move(k)] = convert(item, depth + 1);
  }
  return object;
}

json convert(py::handle value, int depth) {
  if (depth > 512) throw py::value_error("a value nested over 512 deep (a list that holds itself?)");
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) return int_json(value);
  if (py::isinstance<py::float_>(value)) {
    const double d = value.cast<double>();
    if (!std::isfinite(d)) throw py::value_error("mpstate keeps finite floats only in JSON values");
    return d;
  }
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value) || py::isinstance<py::dict>(value)) {
    return container_json(value, depth);
  }
  if (py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value)) {
    const std::string raw = py::bytes(py::reinterpret_borrow<py::object>(value));
    return {{tag, {{"kind", "bytes"}, {"base64", core::base64_encode(raw)}}}};
  }
  py::object ref = py::module_::import("mpstate._core").attr("_ref_of")(value);
  if (!ref.is_none()) return {{tag, pyjson::to_json(ref)}};
  throw py::type_error("mpstate stores JSON-able values: None, bool, int, float, str, bytes, lists, tuples, dicts with str keys "
                       "and mpstate proxies (never pickled objects); " + type_name(value) + " is none of them");
}

bool holds_tag(const json& j) {
  if (j.is_object()) {
    if (j.contains(tag)) return true;
    for (const auto& [k, v] : j.items()) {
      if (holds_tag(v)) return true;
    }
  } else if (j.is_array()) {
    for (const auto& v : j) {
      if (holds_tag(v)) return true;
    }
  }
  return false;
}

py::object tagged_python(const json& j) {
  if (j.is_array()) {
    py::list items(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) items[i] = tagged_python(j[i]);
    return items;
  }
  if (!j.is_object()) return pyjson::from_json(j);
  if (j.size() == 1 && j.contains(tag) && j[tag].is_object()) {
    const json& what = j[tag];
    if (what.value("kind", "") == "bytes") {
      const std::string raw = core::base64_decode(what.value("base64", ""));
      return py::bytes(raw);
    }
    return py::module_::import("mpstate._core").attr("_from_ref")(pyjson::from_json(what));
  }
  py::dict object;
  for (const auto& [k, v] : j.items()) object[py::str(k)] = tagged_python(v);
  return object;
}

}  // namespace

json to_json(py::handle value) { return convert(value, 0); }

py::object to_python(const json& value) {
  if (!value.is_structured() || !holds_tag(value)) return pyjson::from_json(value);
  return tagged_python(value);
}

py::object plain_python(const json& value) { return pyjson::from_json(value); }

}  // namespace mpstate::python
