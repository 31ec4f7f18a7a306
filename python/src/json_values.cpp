// SPDX-License-Identifier: MIT
// Python objects <-> the JSON that mpstate's json values and queue items hold.
//
// Plain JSON both ways: None, bool, int (64 bits), finite float, str, list and tuple
// (a JSON array, read back as a list, as Python's json module does), dict with str
// keys. More, each a one-key object {"$mpstate": {...}} that other languages can
// read too (docs/python.md):
//   bytes                                   {"$mpstate": {"kind": "bytes", "base64": "..."}}
//   an mpstate proxy (a dict, list, queue, lock, ... nested in a container)
//                                           {"$mpstate": {"kind": "dict", "manager": ...,
//                                                         "socket": ..., "name": ...}}
//   with serializer="pickle" only: what JSON cannot keep as it is (a tuple, a
//   datetime, a dataclass, a dict with int keys, an int past 64 bits, ...)
//                                           {"$mpstate": {"kind": "pickle", "base64": "..."}}
// A proxy stored in a list or dict comes back as a proxy to the same variable, as
// with multiprocessing's managers; the variable itself is never copied. The proxy
// kinds are mpstate/_proxies.py's (_ref_of, _from_ref), called through _core. A
// pickle is unpickled only by a client made with serializer="pickle"; any other
// raises TypeMismatch (docs/python.md, "Objects JSON cannot hold": the trust model).
#include <cmath>
#include <nlohmann/json.hpp>
#include <pybind11_json/pybind11_json.hpp>

#include "bindings.hpp"
#include "mpstate/core/value_codec.hpp"

namespace mpstate::python {
namespace {

using json = nlohmann::json;

constexpr const char* tag = "$mpstate";

std::string type_name(py::handle value) { return py::str(py::type::of(value).attr("__name__")); }

// mpstate/_proxies.py's pickler: a proxy inside goes as a stored reference, as in JSON.
json pickled(py::handle value) {
  py::bytes raw = py::module_::import("mpstate._core").attr("_pickle_value")(value);
  return {{tag, {{"kind", "pickle"}, {"base64", core::base64_encode(std::string(raw))}}}};
}

// A value JSON cannot keep as it is: pickled with the pickle serializer, else `why`
// as a TypeError (or the error given).
template <class Error>
json unless_pickled(py::handle value, serializer codec, Error&& why) {
  if (codec == serializer::pickle) return pickled(value);
  throw std::forward<Error>(why);
}

json int_json(py::handle value, serializer codec) {
  try {
    return value.cast<std::int64_t>();
  } catch (const py::cast_error&) {
  }
  try {
    return value.cast<std::uint64_t>();
  } catch (const py::cast_error&) {
    return unless_pickled(value, codec,
                          error(errc::out_of_range, "the int " + std::string(py::str(value)).substr(0, 40) +
                                                        " does not fit in 64 bits: mpstate keeps ints from -2**63 to "
                                                        "2**64-1 (serializer=\"pickle\" keeps any)"));
  }
}

json convert(py::handle value, serializer codec, int depth);

json container_json(py::handle value, serializer codec, int depth) {
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    json items = json::array();
    for (py::handle item : value) items.push_back(convert(item, codec, depth + 1));
    return items;
  }
  json object = json::object();
  for (auto [key, item] : py::reinterpret_borrow<py::dict>(value)) {
    if (!py::isinstance<py::str>(key)) {
      return unless_pickled(value, codec,
                            py::type_error("a dict inside a stored value has str keys only (JSON), not " +
                                           type_name(key) + " (an mpstate dict proxy takes int and tuple keys)"));
    }
    std::string k = key.cast<std::string>();
    if (k == tag) throw py::value_error(std::string("the key '") + tag + "' is mpstate's own in stored dicts");
    object[std::move(k)] = convert(item, codec, depth + 1);
  }
  return object;
}

json convert(py::handle value, serializer codec, int depth) {
  if (depth > 512) throw py::value_error("a value nested over 512 deep (a list that holds itself?)");
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) return int_json(value, codec);
  if (py::isinstance<py::float_>(value)) {
    const double d = value.cast<double>();
    if (!std::isfinite(d)) {
      return unless_pickled(value, codec, py::value_error("mpstate keeps finite floats only in JSON values"));
    }
    return d;
  }
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  // A tuple is kept as a tuple when pickles are; JSON has only arrays.
  if (codec == serializer::pickle && py::isinstance<py::tuple>(value)) return pickled(value);
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value) || py::isinstance<py::dict>(value)) {
    return container_json(value, codec, depth);
  }
  if (py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value)) {
    const std::string raw = py::bytes(py::reinterpret_borrow<py::object>(value));
    return {{tag, {{"kind", "bytes"}, {"base64", core::base64_encode(raw)}}}};
  }
  py::object ref = py::module_::import("mpstate._core").attr("_ref_of")(value);
  if (!ref.is_none()) return {{tag, pyjson::to_json(ref)}};
  return unless_pickled(value, codec,
                        py::type_error("mpstate stores JSON-able values: None, bool, int, float, str, bytes, lists, "
                                       "tuples, dicts with str keys and mpstate proxies; " +
                                       type_name(value) +
                                       " is none of them (a client made with "
                                       "serializer=\"pickle\" keeps any picklable object)"));
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

py::object unpickled_value(const json& what, serializer codec) {
  if (codec != serializer::pickle) {
    throw error(errc::type_mismatch,
                "this value holds a pickled object; only a client made with serializer=\"pickle\" unpickles one "
                "(docs/python.md, \"Objects JSON cannot hold\")");
  }
  return py::module_::import("mpstate._core")
      .attr("_unpickle_value")(py::bytes(core::base64_decode(what.value("base64", ""))));
}

py::object tagged_python(const json& j, serializer codec) {
  if (j.is_array()) {
    py::list items(j.size());
    for (std::size_t i = 0; i < j.size(); ++i) items[i] = tagged_python(j[i], codec);
    return items;
  }
  if (!j.is_object()) return pyjson::from_json(j);
  if (j.size() == 1 && j.contains(tag) && j[tag].is_object()) {
    const json& what = j[tag];
    const std::string kind = what.value("kind", "");
    if (kind == "bytes") return py::bytes(core::base64_decode(what.value("base64", "")));
    if (kind == "pickle") return unpickled_value(what, codec);
    return py::module_::import("mpstate._core").attr("_from_ref")(pyjson::from_json(what));
  }
  py::dict object;
  for (const auto& [k, v] : j.items()) object[py::str(k)] = tagged_python(v, codec);
  return object;
}

}  // namespace

json to_json(py::handle value, serializer codec) { return convert(value, codec, 0); }

py::object to_python(const json& value, serializer codec) {
  if (!value.is_structured() || !holds_tag(value)) return pyjson::from_json(value);
  return tagged_python(value, codec);
}

py::object plain_python(const json& value) { return pyjson::from_json(value); }

}  // namespace mpstate::python
