// SPDX-License-Identifier: MIT
// mpstate._core.Dict and Array. A Dict is Python's managed dict as named variables
// under a prefix (key k of dict "jobs" is the variable "jobs/k", of whatever type
// its value has), with each key bound once and kept, so d[k] costs a hash lookup
// and the variable's read. An Array is a fixed-size array of one scalar type.
#include <pybind11/stl.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "any_value.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/dict.hpp"
#include "raw_methods.hpp"

namespace mpstate::python {
namespace {

// Deletes `name`; false when it did not exist.
bool remove_if_present(const Client& client, const std::string& name) {
  try {
    client.remove(name);
    return true;
  } catch (const error& e) {
    if (e.code() != errc::not_found) throw;
    return false;
  }
}

// Raises KeyError(key), with the key as Python gave it.
[[noreturn]] void raise_key_error(py::handle key) {
  PyErr_SetObject(PyExc_KeyError, key.ptr());
  throw py::error_already_set();
}

// A key's name segment: a plain str key's own UTF-8, not copied (it lives as long as
// the key), or one made (key_segment).
class segment_ref {
 public:
  explicit segment_ref(std::string_view borrowed) : view_(borrowed) {}
  explicit segment_ref(std::string made) : made_(std::move(made)) {}
  operator std::string_view() const { return made_ ? std::string_view(*made_) : view_; }  // NOLINT: a view
  std::size_t size() const { return std::string_view(*this).size(); }

 private:
  std::optional<std::string> made_;
  std::string_view view_;
};

// Heterogeneous lookup: a segment found by its view, with no std::string made.
struct segment_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Keys by their name segment (dict_keys.cpp): "jobs", ".i65", ".j<hex>".
struct py_dict {
  std::shared_ptr<client_handle> client;
  std::string prefix;
  std::unordered_map<std::string, any_value, segment_hash, std::equal_to<>> bound;  // keys bound so far

  std::string name_of(std::string_view segment) const { return detail::key_name(prefix, segment); }
  serializer codec() const { return client->where.codec; }
  segment_ref segment_of(py::handle key) const {
    std::string_view plain = plain_str_key(key);
    segment_ref segment = plain.empty() ? segment_ref(key_segment(key)) : segment_ref(plain);
    if (prefix.size() + 1 + segment.size() > core::max_name_length) {
      throw py::value_error("dict key too long: '" + prefix + "/' and the key make a name over " +
                            std::to_string(core::max_name_length) + " bytes");
    }
    return segment;
  }
  void forget(std::string_view segment) {
    if (auto it = bound.find(segment); it != bound.end()) bound.erase(it);
  }

  // The bound key, binding it on first use; nullptr when there is no such key.
  any_value* find(std::string_view segment) {
    if (auto it = bound.find(segment); it != bound.end()) return &it->second;
    try {
      return &bound.emplace(std::string(segment), bind_any(client->client, name_of(segment))).first->second;
    } catch (const error& e) {
      if (e.code() == errc::not_found) return nullptr;
      throw;
    }
  }
  // Runs fn on the key's proxy; a key deleted by another process is looked up again.
  template <class Fn>
  auto with_key(std::string_view segment, Fn&& fn) -> std::optional<decltype(fn(std::declval<any_value&>()))> {
    for (int attempt = 0; attempt < 2; ++attempt) {
      any_value* v = find(segment);
      if (!v) return std::nullopt;
      try {
        return fn(*v);
      } catch (const error& e) {
        if (e.code() != errc::not_found) throw;
        forget(segment);
      }
    }
    return std::nullopt;
  }
  std::optional<py::object> value_of(std::string_view segment) {
    return with_key(segment, [this](any_value& v) { return get_any(v, codec()); });
  }

  py::object get(py::handle key) {
    if (auto v = value_of(segment_of(key))) return *v;
    raise_key_error(key);
  }

  void set(py::handle key, py::handle value) {
    const segment_ref segment = segment_of(key);
    const std::size_t type = type_index_for(value, codec());
    for (int attempt = 0; attempt < 4; ++attempt) {
      any_value* v = find(segment);
      if (!v) {
        if (create_plain(*client, name_of(segment), any_type_names[type], value)) return;
        continue;  // created by another process meanwhile: set it
      }
      if (v->index() != type) {  // a value of another type: the key is made again
        forget(segment);
        remove_if_present(client->client, name_of(segment));
        continue;
      }
      try {
        return set_any(*v, value, codec());
      } catch (const error& e) {
        if (e.code() != errc::not_found) throw;
        forget(segment);
      }
    }
    throw error(errc::busy, "a key of dict '" + prefix + "' keeps changing under this set");
  }

  bool erase(std::string_view segment) {
    forget(segment);
    return remove_if_present(client->client, name_of(segment));
  }

  // The keys' segments, in name order.
  std::vector<std::string> segments() const {
    const std::string under = prefix + "/";
    std::vector<std::string> out;
    for (std::string& n : client->client.list(under)) {
      std::string segment = n.substr(under.size());
      if (segment.find('/') == std::string::npos) out.push_back(std::move(segment));
    }
    return out;
  }
  py::list keys() const {
    py::list out;
    for (const std::string& segment : segments()) out.append(key_of_segment(segment));
    return out;
  }
};

py::dict to_dict(py_dict& d) {
  py::dict out;
  for (const std::string& segment : d.segments()) {
    if (auto v = d.value_of(segment)) out[key_of_segment(segment)] = *v;
  }
  return out;
}

struct py_array {
  std::shared_ptr<client_handle> client;
  std::string name;
  std::variant<Array<std::int64_t>, Array<std::uint64_t>, Array<double>, Array<bool>> array;
};

py_array bind_array(std::shared_ptr<client_handle> c, const std::string& name, const std::string& of,
                    std::size_t size) {
  const Client& cl = c->client;
  if (of == "int64") return {c, name, cl.array<std::int64_t>(name, size)};
  if (of == "uint64") return {c, name, cl.array<std::uint64_t>(name, size)};
  if (of == "double") return {c, name, cl.array<double>(name, size)};
  if (of == "bool") return {c, name, cl.array<bool>(name, size)};
  throw py::value_error("an Array holds int64, uint64, double or bool, not " + of);
}

// An existing array, whatever its element type.
py_array bind_existing_array(std::shared_ptr<client_handle> c, const std::string& name) {
  for (const char* of : {"int64", "double", "uint64", "bool"}) {
    try {
      return bind_array(c, name, of, 0);
    } catch (const error& e) {
      if (e.code() != errc::type_mismatch) throw;
    }
  }
  throw error(errc::type_mismatch, "'" + name + "' is not an array");
}

// d[k] and d[k] = v (del d[k]) as the type's own mapping slots: CPython calls them
// directly, without pybind11's dispatcher (the __getitem__ methods stay, the same).
PyObject* dict_subscript(PyObject* self, PyObject* key) noexcept {
  py_dict* d = instance_of<py_dict>(self);
  if (!d) return nullptr;
  try {
    return d->get(key).release().ptr();
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
}

int dict_ass_subscript(PyObject* self, PyObject* key, PyObject* value) noexcept {
  py_dict* d = instance_of<py_dict>(self);
  if (!d) return -1;
  try {
    if (value) {
      d->set(key, value);
    } else if (!d->erase(d->segment_of(key))) {
      raise_key_error(key);
    }
    return 0;
  } catch (...) {
    set_python_error_from_current();
    return -1;
  }
}

PyTypeObject* dict_type = nullptr;  // mpstate._core.Dict, once bound

}  // namespace

void install_fast_dict_slots(py::handle cls) {
  auto* type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  if (!PyType_Check(cls.ptr()) || !(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || !type->tp_as_mapping || !dict_type ||
      !PyType_IsSubtype(type, dict_type)) {
    throw py::type_error("_install_fast_dict_slots: a subclass of mpstate._core.Dict");
  }
  type->tp_as_mapping->mp_subscript = dict_subscript;
  type->tp_as_mapping->mp_ass_subscript = dict_ass_subscript;
  PyType_Modified(type);
}

void bind_containers(py::module_& m) {
  py::class_<py_dict>(m, "Dict", "Python's managed dict as named variables (use mpstate's DictProxy).")
      .def(py::init([](std::shared_ptr<client_handle> c, const std::string& prefix) {
             detail::key_name(prefix, "k");  // checks the prefix: invalid_name
             return py_dict{std::move(c), prefix, {}};
           }),
           py::arg("client"), py::arg("prefix"))
      .def_property_readonly(
          "name", [](const py_dict& d) { return d.prefix; }, "The dict's name (its keys' prefix).")
      .def("__getitem__", &py_dict::get, py::arg("key"))
      .def("__setitem__", &py_dict::set, py::arg("key"), py::arg("value"))
      .def(
          "__delitem__",
          [](py_dict& d, py::handle key) {
            if (!d.erase(d.segment_of(key))) raise_key_error(key);
          },
          py::arg("key"))
      .def(
          "__contains__", [](py_dict& d, py::handle key) { return d.value_of(d.segment_of(key)).has_value(); },
          py::arg("key"))
      .def("__len__", [](const py_dict& d) { return d.segments().size(); })
      .def("keys", &py_dict::keys, "The keys, in the order of their variables' names (a list).")
      .def(
          "get",
          [](py_dict& d, py::handle key, py::object fallback) -> py::object {
            if (auto v = d.value_of(d.segment_of(key))) return *v;
            return fallback;
          },
          py::arg("key"), py::arg("default") = py::none(), "The value of key, or default when absent.")
      .def(
          "pop",
          [](py_dict& d, py::handle key, py::args fallback) -> py::object {
            const segment_ref segment = d.segment_of(key);
            auto v = d.value_of(segment);
            if (v && d.erase(segment)) return *v;
            if (fallback.empty()) raise_key_error(key);
            return fallback[0];
          },
          py::arg("key"),
          "Removes key and returns its value; pop(key, default) gives default when absent, "
          "else KeyError.")
      .def(
          "popitem",
          [](py_dict& d) -> py::tuple {
            for (int attempt = 0; attempt < 8; ++attempt) {  // another process may take the last key first
              const std::vector<std::string> segments = d.segments();
              if (segments.empty()) break;
              const std::string& last = segments.back();
              auto v = d.value_of(last);
              if (v && d.erase(last)) return py::make_tuple(key_of_segment(last), *v);
            }
            PyErr_SetString(PyExc_KeyError, "popitem(): dictionary is empty");
            throw py::error_already_set();
          },
          "Removes and returns a (key, value) pair: the last key in name order. KeyError when empty.")
      .def(
          "items", [](py_dict& d) { return to_dict(d).attr("items")(); }, "The (key, value) pairs now (a copy).")
      .def(
          "values", [](py_dict& d) { return to_dict(d).attr("values")(); }, "The values now (a copy).")
      .def("copy", &to_dict, "The whole dict as a plain Python dict.")
      .def(
          "clear",
          [](py_dict& d) {
            for (const std::string& segment : d.segments()) d.erase(segment);
          },
          "Removes every key.")
      .def(py::pickle([](const py_dict& d) { return pickled_state(*d.client, d.prefix); },
                      [](const py::tuple& state) {
                        auto [c, prefix] = unpickled(state);
                        return py_dict{std::move(c), std::move(prefix), {}};
                      }));

  dict_type = reinterpret_cast<PyTypeObject*>(m.attr("Dict").ptr());

  py::class_<py_array>(m, "Array", "A fixed-size array of one scalar type (use mpstate's ArrayProxy).")
      .def(py::init(&bind_array), py::arg("client"), py::arg("name"), py::arg("of"), py::arg("size"))
      .def_static("bind", &bind_existing_array, py::arg("client"), py::arg("name"), "Binds the existing array name.")
      .def_property_readonly(
          "name", [](const py_array& a) { return a.name; }, "The variable's name.")
      .def("__len__", [](const py_array& a) { return std::visit([](const auto& x) { return x.size(); }, a.array); })
      .def("__getitem__",
           [](const py_array& a, std::int64_t i) {
             return std::visit([&](const auto& x) { return py::cast(x.get(i)); }, a.array);
           })
      .def("__setitem__",
           [](py_array& a, std::int64_t i, py::handle v) {
             std::visit([&](auto& x) { x.set(i, from_py<decltype(x.get(0))>(v, serializer::json)); }, a.array);
           })
      .def(
          "tolist",
          [](const py_array& a) { return std::visit([](const auto& x) { return py::cast(x.to_vector()); }, a.array); },
          "The items, as a list.")
      .def(
          "assign",
          [](py_array& a, const py::iterable& items) {
            std::visit(
                [&](auto& x) {
                  using T = decltype(x.get(0));
                  std::vector<T> values;
                  for (py::handle item : items) values.push_back(from_py<T>(item, serializer::json));
                  x.assign(values);
                },
                a.array);
          },
          "Stores items (as many as the array holds) in one write.")
      .def_property_readonly(
          "version", [](const py_array& a) { return std::visit([](const auto& x) { return x.version(); }, a.array); },
          "Grows with every write.")
      .def(py::pickle([](const py_array& a) { return pickled_state(*a.client, a.name); },
                      [](const py::tuple& state) {
                        auto [c, name] = unpickled(state);
                        return bind_existing_array(std::move(c), name);
                      }));
}

}  // namespace mpstate::python
