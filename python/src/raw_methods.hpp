// SPDX-License-Identifier: MIT
// Raw CPython entry points for the hottest calls (Value.value, Queue.put/get,
// Lock.acquire/release): pybind11's dispatcher costs more than those operations.
// Each raw method handles the common call shape and hands any other to the
// pybind11 method of the same meaning (delegate).
#pragma once

#include <initializer_list>

#include "bindings.hpp"

namespace mpstate::python {

// The C++ object of a pybind11 instance (of the class or a Python subclass of it);
// nullptr with a TypeError set when it was never initialised.
template <class T>
T* instance_of(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  // The one-class layout inline (pybind11's lookup is an out-of-line call per use).
  auto* object =
      static_cast<T*>(inst->simple_layout ? inst->simple_value_holder[0] : inst->get_value_and_holder().value_ptr());
  if (!object) PyErr_SetString(PyExc_TypeError, "an mpstate proxy that was never bound");
  return object;
}

// Calls self.<method>(*args, **kwnames): the full signature's pybind11 method.
inline PyObject* delegate(PyObject* self, const char* method, PyObject* const* args, Py_ssize_t nargs,
                          PyObject* kwnames) noexcept {
  py::object fn = py::reinterpret_steal<py::object>(PyObject_GetAttrString(self, method));
  if (!fn) return nullptr;
  return PyObject_Vectorcall(fn.ptr(), args, static_cast<size_t>(nargs), kwnames);
}

// Puts the methods (static PyMethodDefs) on the class, over pybind11's of the same name.
inline void install_methods(py::handle cls, std::initializer_list<PyMethodDef*> defs) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  for (PyMethodDef* def : defs) {
    py::object descriptor = py::reinterpret_steal<py::object>(PyDescr_NewMethod(type, def));
    if (!descriptor || PyObject_SetAttrString(cls.ptr(), def->ml_name, descriptor.ptr()) != 0) {
      throw py::error_already_set();
    }
  }
}

// A fastcall function as PyMethodDef wants it.
template <auto Fn>
PyCFunction as_cfunction() {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Fn));
}

}  // namespace mpstate::python
