// SPDX-License-Identifier: MIT
// Python values <-> mpstate values: the type a Python value is stored as (JSON
// itself in json_values.cpp), timeouts.
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "any_value.hpp"
#include "bindings.hpp"
#include "mpstate/core/value_codec.hpp"

namespace mpstate::python {

std::size_t type_index_for(py::handle value, serializer codec) {
  if (PyBool_Check(value.ptr())) return any_bool;
  if (PyLong_Check(value.ptr())) {
    int overflow = 0;
    PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);  // no exception to raise and catch
    if (overflow == 0) return any_int64;
    if (overflow > 0) {
      PyLong_AsUnsignedLongLong(value.ptr());
      if (!PyErr_Occurred()) return any_uint64;
      PyErr_Clear();
    }
    if (codec == serializer::json) to_json(value, codec);  // out_of_range past 64 bits, unless pickled
    return any_json;
  }
  if (PyFloat_Check(value.ptr())) return any_double;
  if (PyUnicode_Check(value.ptr())) return any_string;
  if (PyBytes_Check(value.ptr()) || PyByteArray_Check(value.ptr())) return any_bytes;
  if (codec == serializer::json) to_json(value, codec);  // TypeError for what JSON cannot hold; pickles hold all
  return any_json;
}

std::string type_name_for(py::handle value, serializer codec) { return any_type_names[type_index_for(value, codec)]; }

bool create_plain(const client_handle& client, const std::string& name, const std::string& type, py::handle value) {
  nlohmann::json request = {{"op", "create"}, {"name", name}, {"type", type}};
  if (type == "bytes") {
    const std::string raw = py::bytes(py::reinterpret_borrow<py::object>(value));
    request["value"] = core::base64_encode(raw);
  } else {
    request["value"] = to_json(value, client.where.codec);
  }
  return create_if_absent(client.client, std::move(request));
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

namespace {
// threading.TIMEOUT_MAX on Linux: the largest timeout the threading module takes.
constexpr double timeout_max = 9223372036.0;

// A timeout in seconds, checked as threading checks one: OverflowError past
// TIMEOUT_MAX, TypeError for what is no number.
double seconds_of(const py::object& timeout) {
  if (!py::isinstance<py::float_>(timeout) && !py::isinstance<py::int_>(timeout)) {
    throw py::type_error("a timeout is a number of seconds, not " +
                         std::string(py::str(py::type::of(timeout).attr("__name__"))));
  }
  const double seconds = timeout.cast<double>();
  if (std::isnan(seconds)) throw py::value_error("a timeout cannot be NaN");
  if (seconds > timeout_max) throw std::overflow_error("timeout value is too large");  // pybind11: OverflowError
  return seconds;
}

std::chrono::milliseconds milliseconds_of(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
}
}  // namespace

std::chrono::milliseconds timeout_of(const py::object& timeout, bool block) {
  if (!block) return std::chrono::milliseconds::zero();
  if (timeout.is_none()) return forever;
  const double seconds = seconds_of(timeout);
  if (seconds <= 0) return std::chrono::milliseconds::zero();  // as threading's waits: at once
  return milliseconds_of(seconds);
}

std::chrono::milliseconds lock_timeout_of(bool blocking, const py::object& timeout) {
  const double seconds = timeout.is_none() ? -1.0 : seconds_of(timeout);
  if (!blocking && seconds != -1.0) throw py::value_error("can't specify a timeout for a non-blocking call");
  if (!blocking) return std::chrono::milliseconds::zero();
  if (seconds == -1.0) return forever;
  if (seconds < 0) throw py::value_error("timeout value must be a non-negative number");
  return milliseconds_of(seconds);
}

std::chrono::milliseconds semaphore_timeout_of(bool blocking, const py::object& timeout) {
  if (!blocking && !timeout.is_none()) throw py::value_error("can't specify timeout for non-blocking acquire");
  return timeout_of(timeout, blocking);
}

std::chrono::milliseconds queue_timeout_of(const py::object& timeout, bool block) {
  if (block && !timeout.is_none() && seconds_of(timeout) < 0) {
    throw py::value_error("'timeout' must be a non-negative number");
  }
  return timeout_of(timeout, block);
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
