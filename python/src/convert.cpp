// SPDX-License-Identifier: MIT
// Python values <-> mpstate values: the type a Python value is stored as, JSON both
// ways (pybind11_json), timeouts.
#include <pybind11_json/pybind11_json.hpp>

#include <cmath>
#include <limits>

#include "bindings.hpp"
#include "mpstate/core/value_codec.hpp"

namespace mpstate::python {

std::string type_name_for(py::handle value) {
  if (py::isinstance<py::bool_>(value)) return "bool";
  if (py::isinstance<py::int_>(value)) {
    try {
      value.cast<std::int64_t>();
      return "int64";
    } catch (const py::cast_error&) {
      value.cast<std::uint64_t>();  // throws when it fits neither
      return "uint64";
    }
  }
  if (py::isinstance<py::float_>(value)) return "double";
  if (py::isinstance<py::str>(value)) return "string";
  if (py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value)) return "bytes";
  to_json(value);  // TypeError for what JSON cannot hold
  return "json";
}

nlohmann::json to_json(py::handle value) {
  if (py::isinstance<py::float_>(value)) {
    const double d = value.cast<double>();
    if (!std::isfinite(d)) throw py::value_error("mpstate keeps finite floats only in JSON values");
  }
  try {
    return pyjson::to_json(value);
  } catch (const std::runtime_error& e) {
    throw py::type_error("mpstate stores int, float, bool, str, bytes and JSON-able values (never pickled "
                         "objects); " + std::string(py::str(py::type::of(value).attr("__name__"))) +
                         " is none of them");
  }
}

py::object to_python(const nlohmann::json& value) { return pyjson::from_json(value); }

bool create_plain(const Client& client, const std::string& name, const std::string& type, py::handle value) {
  nlohmann::json request = {{"op", "create"}, {"name", name}, {"type", type}};
  if (type == "bytes") {
    const std::string raw = py::bytes(py::reinterpret_borrow<py::object>(value));
    request["value"] = core::base64_encode(raw);
  } else {
    request["value"] = to_json(value);
  }
  return create_if_absent(client, std::move(request));
}

bool create_if_absent(const Client& client, nlohmann::json create_request) {
  try {
    client.request(std::move(create_request));
    return true;
  } catch (const error& e) {
    if (e.code() != errc::already_exists) throw;
    return false;
  }
}

std::chrono::milliseconds timeout_of(const py::object& timeout, bool block) {
  if (!block) return std::chrono::milliseconds::zero();
  if (timeout.is_none()) return forever;
  const double seconds = timeout.cast<double>();
  if (seconds < 0) return forever;
  if (seconds > 1e9) return forever;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
}

std::chrono::milliseconds deadline_timeout_of(const py::object& timeout) {
  const auto ms = timeout_of(timeout);
  return ms < std::chrono::milliseconds::zero() ? std::chrono::hours(24 * 365 * 100) : ms;
}

void raise_python(const char* module, const char* python_class, const std::string& message) {
  py::object cls = py::module_::import(module).attr(python_class);
  PyErr_SetString(cls.ptr(), message.c_str());
  throw py::error_already_set();
}

}  // namespace mpstate::python
