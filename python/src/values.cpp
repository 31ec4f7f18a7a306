// SPDX-License-Identifier: MIT
// mpstate._core.Value: one named variable of any plain type, with Python's
// `value` property as multiprocessing's Value proxies have it.
#include <pybind11/functional.h>

#include "any_value.hpp"
#include "raw_methods.hpp"

namespace mpstate::python {

template <class T>
py::object to_py(const T& v, [[maybe_unused]] serializer codec) {
  if constexpr (std::is_same_v<T, Bytes>) {
    return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return to_python(v, codec);
  } else {
    return py::cast(v);
  }
}

template <class T>
T from_py(py::handle v, [[maybe_unused]] serializer codec) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (!py::isinstance<py::str>(v)) throw py::type_error("this variable holds a str");
    return v.cast<std::string>();
  } else if constexpr (std::is_same_v<T, Bytes>) {
    if (!py::isinstance<py::bytes>(v) && !py::isinstance<py::bytearray>(v)) {
      throw py::type_error("this variable holds bytes");
    }
    const std::string raw = py::isinstance<py::bytes>(v)
                                ? v.cast<std::string>()
                                : std::string(py::bytes(py::reinterpret_borrow<py::object>(v)));
    return Bytes(raw.begin(), raw.end());
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return to_json(v, codec);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!py::isinstance<py::bool_>(v)) throw py::type_error("this variable holds a bool");
    return v.cast<bool>();
  } else if constexpr (std::is_same_v<T, double>) {
    if (!py::isinstance<py::float_>(v) && !py::isinstance<py::int_>(v)) {
      throw py::type_error("this variable holds a float");
    }
    return v.cast<double>();
  } else {
    if (!py::isinstance<py::int_>(v)) throw py::type_error("this variable holds an int");
    try {
      return v.cast<T>();
    } catch (const py::cast_error&) {
      throw error(errc::out_of_range,
                  std::string(py::repr(v)) + " does not fit " + (std::is_signed_v<T> ? "int64" : "uint64"));
    }
  }
}

any_value bind_any(const Client& client, const std::string& name) {
  const std::optional<std::string> type = client.type_of(name);
  if (!type) throw error(errc::not_found, "no variable '" + name + "'");
  if (*type == "int64") return client.value<std::int64_t>(name);
  if (*type == "uint64") return client.value<std::uint64_t>(name);
  if (*type == "double") return client.value<double>(name);
  if (*type == "bool") return client.value<bool>(name);
  if (*type == "string") return client.value<std::string>(name);
  if (*type == "bytes") return client.value<Bytes>(name);
  if (*type == "json") return client.value<nlohmann::json>(name);
  throw error(errc::type_mismatch, "variable '" + name + "' is a " + *type + ", not a value");
}

py::object get_any(const any_value& v, serializer codec) {
  return std::visit([codec](const auto& value) { return to_py(value.get(), codec); }, v);
}

void set_any(any_value& v, py::handle value, serializer codec) {
  std::visit(
      [&](auto& proxy) {
        using T = std::decay_t<decltype(proxy.get())>;
        proxy.set(from_py<T>(value, codec));
      },
      v);
}

// The `fence=` argument of a fenced write: an mpstate.Fence, or None for a plain one.
std::optional<Fence> fence_of(const py::object& fence) {
  if (fence.is_none()) return std::nullopt;
  if (!py::isinstance<Fence>(fence)) {
    throw py::type_error("fence= takes an mpstate.Fence (a held lock's .fence), not " +
                         std::string(py::str(py::type::of(fence).attr("__name__"))));
  }
  return fence.cast<Fence>();
}

std::string type_of_any(const any_value& v) { return any_type_names[v.index()]; }

namespace {

struct py_value {
  std::shared_ptr<client_handle> client;
  std::string name;
  any_value value;

  serializer codec() const { return client->where.codec; }
};

void set_fenced(py_value& self, py::handle value, const py::object& fence) {
  const std::optional<Fence> f = fence_of(fence);
  if (!f) return set_any(self.value, value, self.codec());
  std::visit(
      [&](auto& proxy) {
        using T = std::decay_t<decltype(proxy.get())>;
        proxy.set(from_py<T>(value, self.codec()), *f);
      },
      self.value);
}

py::object add(py_value& self, py::handle delta, const py::object& fence) {
  const std::optional<Fence> f = fence_of(fence);
  return std::visit(
      [&](auto& proxy) -> py::object {
        using T = std::decay_t<decltype(proxy.get())>;
        if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::uint64_t> ||
                      std::is_same_v<T, double>) {
          const T d = from_py<T>(delta, self.codec());
          return py::cast(f ? proxy.add(d, *f) : proxy.add(d));
        } else {
          throw error(errc::type_mismatch,
                      "add() needs an int or float variable; '" + self.name + "' is " + type_of_any(self.value));
        }
      },
      self.value);
}

py::tuple compare_exchange(py_value& self, py::handle expected, py::handle desired, const py::object& fence) {
  const std::optional<Fence> f = fence_of(fence);
  return std::visit(
      [&](auto& proxy) {
        using T = std::decay_t<decltype(proxy.get())>;
        T current = from_py<T>(expected, self.codec());
        const bool ok = f ? proxy.compare_exchange(current, from_py<T>(desired, self.codec()), *f)
                          : proxy.compare_exchange(current, from_py<T>(desired, self.codec()));
        return py::make_tuple(ok, to_py(current, self.codec()));
      },
      self.value);
}

py::object update(py_value& self, const py::function& fn, const py::object& fence) {
  const std::optional<Fence> f = fence_of(fence);
  return std::visit(
      [&](auto& proxy) {
        using T = std::decay_t<decltype(proxy.get())>;
        auto apply = [&](const T& current) { return from_py<T>(fn(to_py(current, self.codec())), self.codec()); };
        return to_py(f ? proxy.update(apply, *f) : proxy.update(apply), self.codec());
      },
      self.value);
}

std::uint64_t wait_for_change(const py_value& self, std::uint64_t seen, const py::object& timeout) {
  const auto ms = deadline_timeout_of(timeout);
  py::gil_scoped_release unlocked;
  return std::visit([&](const auto& proxy) { return proxy.wait_for_change(seen, ms); }, self.value);
}

// An exact int that fits int64 (the raw paths' common case); false, with no error
// set, for anything else, which the general path then judges.
bool exact_int64(PyObject* o, long long& out) noexcept {
  if (!PyLong_CheckExact(o)) return false;
  int overflow = 0;
  out = PyLong_AsLongLongAndOverflow(o, &overflow);
  if (overflow == 0 && !(out == -1 && PyErr_Occurred())) return true;
  PyErr_Clear();
  return false;
}

// `value` as a raw CPython descriptor: pybind11's dispatcher costs more than the
// read itself, and multiprocessing.Value('q').value is the bar (~100 ns).
PyObject* get_value_fast(PyObject* self, void*) noexcept {
  py_value* v = instance_of<py_value>(self);
  if (!v) return nullptr;
  try {
    if (auto* i = std::get_if<Value<std::int64_t>>(&v->value)) return PyLong_FromLongLong(i->get());
    if (auto* d = std::get_if<Value<double>>(&v->value)) return PyFloat_FromDouble(d->get());
    return get_any(v->value, v->codec()).release().ptr();
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
}

int set_value_fast(PyObject* self, PyObject* value, void*) noexcept {
  if (!value) {
    PyErr_SetString(PyExc_AttributeError, "an mpstate variable's value cannot be deleted");
    return -1;
  }
  py_value* v = instance_of<py_value>(self);
  if (!v) return -1;
  try {
    long long x;
    if (auto* i = std::get_if<Value<std::int64_t>>(&v->value); i && exact_int64(value, x)) {
      i->set(x);
      return 0;
    }
    set_any(v->value, value, v->codec());
    return 0;
  } catch (...) {
    set_python_error_from_current();
    return -1;
  }
}

PyGetSetDef value_descriptor = {"value", get_value_fast, set_value_fast,
                                "The variable's value (reads and writes the shared memory directly).", nullptr};

// add(delta) as a raw CPython method for the common call (an int delta on an int64
// variable, a float on a double, no fence); any other call goes to the pybind11
// method of the same meaning (_add).
PyObject* add_fast(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) noexcept {
  if (nargs != 1 || kwnames) return delegate(self, "_add", args, nargs, kwnames);
  py_value* v = instance_of<py_value>(self);
  if (!v) return nullptr;
  try {
    long long x;
    if (auto* i = std::get_if<Value<std::int64_t>>(&v->value); i && exact_int64(args[0], x)) {
      return PyLong_FromLongLong(i->add(x));
    }
    if (auto* d = std::get_if<Value<double>>(&v->value); d && PyFloat_CheckExact(args[0])) {
      return PyFloat_FromDouble(d->add(PyFloat_AS_DOUBLE(args[0])));
    }
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
  return delegate(self, "_add", args, nargs, kwnames);
}

}  // namespace

void bind_values(py::module_& m) {
  py::class_<py_value>(m, "Value")
      .def(py::init([](std::shared_ptr<client_handle> c, const std::string& name) {
             any_value v = bind_any(c->client, name);
             return py_value{std::move(c), name, std::move(v)};
           }),
           py::arg("client"), py::arg("name"))
      .def(
          "get", [](const py_value& self) { return get_any(self.value, self.codec()); },
          "The value (one consistent read; a copy for str, bytes and JSON values).")
      .def("set", &set_fenced, py::arg("value"), py::arg("fence") = py::none(),
           "Stores value. With fence= (a held lock's .fence): only while that holding lasts, else "
           "OwnershipLost and nothing changes.")
      .def("_add", &add, py::arg("delta"), py::arg("fence") = py::none(), "add() in full: any delta, and fence=.")
      .def("compare_exchange", &compare_exchange, py::arg("expected"), py::arg("desired"),
           py::arg("fence") = py::none(),
           "Stores desired if the value equals expected; returns (stored, value before) (fence= as for set).")
      .def("update", &update, py::arg("fn"), py::arg("fence") = py::none(),
           "Stores fn(current) atomically and returns it (fence= as for set). For an int, float or bool a "
           "compare-exchange loop: fn runs again if another write came first; otherwise fn runs once, under the "
           "variable's lock.")
      .def_property_readonly(
          "version",
          [](const py_value& self) {
            return std::visit([](const auto& proxy) { return proxy.version(); }, self.value);
          },
          "The variable's version: it grows with every write (wait_for_change waits for it to move).")
      .def("wait_for_change", &wait_for_change, py::arg("seen"), py::arg("timeout") = py::none(),
           "Blocks (without the GIL) until the version differs from seen; returns it.")
      .def_property_readonly(
          "name", [](const py_value& self) { return self.name; }, "The variable's name.")
      .def_property_readonly(
          "type", [](const py_value& self) { return type_of_any(self.value); },
          "The variable's mpstate type: int64, uint64, double, bool, string, bytes or json.")
      .def("__repr__",
           [](const py_value& self) {
             return "<mpstate.Value '" + self.name + "' " + type_of_any(self.value) + " " +
                    std::string(py::repr(get_any(self.value, self.codec()))) + ">";
           })
      .def(py::pickle([](const py_value& self) { return pickled_state(*self.client, self.name); },
                      [](const py::tuple& state) {
                        auto [c, name] = unpickled(state);
                        any_value v = bind_any(c->client, name);
                        return py_value{std::move(c), std::move(name), std::move(v)};
                      }));
  static PyMethodDef add_def = {"add", as_cfunction<&add_fast>(), METH_FASTCALL | METH_KEYWORDS,
                                "add($self, /, delta, fence=None)\n--\n\n"
                                "Adds delta atomically and returns the new value (an int or float variable; "
                                "OutOfRange on an int overflow). fence= as for set."};
  install_methods(m.attr("Value"), {&add_def});
  auto* type = reinterpret_cast<PyTypeObject*>(m.attr("Value").ptr());
  py::object descriptor = py::reinterpret_steal<py::object>(PyDescr_NewGetSet(type, &value_descriptor));
  if (!descriptor || PyObject_SetAttrString(m.attr("Value").ptr(), "value", descriptor.ptr()) != 0) {
    throw py::error_already_set();
  }
}

template py::object to_py(const std::int64_t&, serializer);
template py::object to_py(const std::uint64_t&, serializer);
template py::object to_py(const double&, serializer);
template py::object to_py(const bool&, serializer);
template py::object to_py(const std::string&, serializer);
template py::object to_py(const Bytes&, serializer);
template py::object to_py(const nlohmann::json&, serializer);
template std::int64_t from_py(py::handle, serializer);
template std::uint64_t from_py(py::handle, serializer);
template double from_py(py::handle, serializer);
template bool from_py(py::handle, serializer);
template std::string from_py(py::handle, serializer);
template Bytes from_py(py::handle, serializer);
template nlohmann::json from_py(py::handle, serializer);

}  // namespace mpstate::python
