// SPDX-License-Identifier: MIT
// mpstate._core: the client, the embedded manager process, and the translation of
// mpstate::error into the Python exception classes of mpstate/__init__.py.
#include <pybind11/stl.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pybind11_json/pybind11_json.hpp>

#include "bindings.hpp"
#include "mpstate/manager.hpp"
#include "mpstate/version.hpp"

namespace mpstate::python {

std::shared_ptr<client_handle> client_for(const address& where, Transport transport) {
  static std::mutex mutex;
  static auto* clients = new std::map<std::tuple<std::string, std::string, serializer, Transport>,
                                      std::weak_ptr<client_handle>>;  // never destroyed: outlives the interpreter
  std::lock_guard lock(mutex);
  auto& slot = (*clients)[{where.manager_name, where.socket_path, where.codec, transport}];
  // A client whose manager has ended its segment is void: a manager started again
  // under the same name is served by a new client, never the old orphan segment.
  if (auto alive = slot.lock(); alive && !alive->client.manager_ended()) return alive;
  ClientOptions options{.manager_name = where.manager_name, .socket_path = where.socket_path, .transport = transport};
  auto made = std::make_shared<client_handle>(client_handle{where, Client(options)});
  slot = made;
  return made;
}

py::tuple pickled_state(const client_handle& client, const std::string& name) {
  if (client.where.codec == serializer::pickle) {
    return py::make_tuple(client.where.manager_name, client.where.socket_path, name, "pickle");
  }
  return py::make_tuple(client.where.manager_name, client.where.socket_path, name);
}

std::pair<std::shared_ptr<client_handle>, std::string> unpickled(const py::tuple& state) {
  if (state.size() != 3 && state.size() != 4) throw py::value_error("not the state of a pickled mpstate proxy");
  address where{state[0].cast<std::string>(), state[1].cast<std::string>()};
  if (state.size() == 4 && state[3].cast<std::string>() == "pickle") where.codec = serializer::pickle;
  return {client_for(where), state[2].cast<std::string>()};
}

void set_python_error(const error& e) {
  py::object classes = py::module_::import("mpstate._core").attr("_error_classes");
  py::object cls = classes.attr("get")(std::string(to_string(e.code())), py::none());
  if (cls.is_none()) cls = py::reinterpret_borrow<py::object>(PyExc_RuntimeError);
  PyErr_SetString(cls.ptr(), e.message().c_str());
}

void set_python_error_from_current() noexcept {
  try {
    throw;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const error& e) {
    set_python_error(e);
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
}

namespace {

Transport transport_from(const std::string& name) {
  if (name == "auto" || name.empty()) return Transport::automatic;
  if (name == "local") return Transport::local;
  if (name == "socket") return Transport::socket;
  throw py::value_error("transport is 'auto', 'local' or 'socket', not '" + name + "'");
}

// mpstate::error -> the class registered for its code (mpstate.NotFound, ...).
void translate_errors(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const error& e) {
    set_python_error(e);
  }
}

}  // namespace

void bind_client(py::module_& m) {
  m.attr("_error_classes") = py::dict();
  py::register_exception_translator(&translate_errors);
  m.def("_register_errors",
        [](py::dict classes) { py::module_::import("mpstate._core").attr("_error_classes") = classes; });

  py::class_<client_handle, std::shared_ptr<client_handle>>(m, "Client")
      .def(py::init([](const std::string& manager_name, const std::string& socket_path, const std::string& transport,
                       const std::string& codec) {
             if (manager_name.empty() && socket_path.empty()) {
               throw py::value_error("connect() needs a manager name or a socket path");
             }
             if (codec != "json" && codec != "pickle") {
               throw py::value_error("serializer is 'json' or 'pickle', not '" + codec + "'");
             }
             const address where{manager_name, socket_path, codec == "pickle" ? serializer::pickle : serializer::json};
             py::gil_scoped_release unlocked;
             return client_for(where, transport_from(transport));
           }),
           py::arg("manager_name") = "", py::arg("socket_path") = "", py::arg("transport") = "auto",
           py::arg("serializer") = "json")
      .def_property_readonly("manager_name", [](const client_handle& c) { return c.where.manager_name; })
      .def_property_readonly("socket_path", [](const client_handle& c) { return c.where.socket_path; })
      .def_property_readonly("is_local", [](const client_handle& c) { return c.client.is_local(); })
      .def_property_readonly(
          "serializer", [](const client_handle& c) { return c.where.codec == serializer::pickle ? "pickle" : "json"; })
      .def("type_of", [](const client_handle& c, const std::string& name) { return c.client.type_of(name); })
      .def(
          "create",
          [](const client_handle& c, const std::string& name, py::handle initial, const std::string& type) {
            return create_plain(c, name, type.empty() ? type_name_for(initial, c.where.codec) : type, initial);
          },
          py::arg("name"), py::arg("initial"), py::arg("type") = "",
          "Creates a plain variable holding initial (its type from initial's unless given); "
          "False when the name is taken.")
      .def(
          "remove", [](const client_handle& c, const std::string& name) { c.client.remove(name); },
          "Deletes the variable `name`; proxies bound to it then raise NotFound.")
      .def(
          "set_collectable",
          [](const client_handle& c, const std::string& name, bool collectable) {
            py::gil_scoped_release unlocked;  // dropping the last binding may ask the manager to collect
            return c.client.set_collectable(name, collectable);
          },
          py::arg("name"), py::arg("collectable"),
          "Collectable: removed (with the variables under '<name>/') once no process holds a proxy to it; "
          "False where bindings are not counted (not a mapped segment) or there is no such variable.")
      .def(
          "names", [](const client_handle& c, const std::string& prefix) { return c.client.list(prefix); },
          py::arg("prefix") = "")
      .def(
          "dump", [](const client_handle& c, const std::string& prefix) { return plain_python(c.client.dump(prefix)); },
          py::arg("prefix") = "")
      .def("request", [](const client_handle& c, py::dict request) {
        nlohmann::json j = pyjson::to_json(request);  // raw: the wire's JSON as it is, tags too
        nlohmann::json result;
        {
          py::gil_scoped_release unlocked;
          result = c.client.request(std::move(j));
        }
        return plain_python(result);
      });

  py::class_<Manager>(m, "ManagerProcess", "An embedded mpstate-manager process (use mpstate.Manager).")
      .def(py::init([](const std::string& name, std::uint64_t size, bool keep, std::vector<std::string> args,
                       const std::string& executable, int log_fd) {
             ManagerOptions options;
             options.name = name;
             options.size = size;
             options.keep = keep;
             options.extra_args = std::move(args);
             options.executable = executable;
             options.log_fd = log_fd;
             py::gil_scoped_release unlocked;
             return std::make_unique<Manager>(Manager::start(std::move(options)));
           }),
           py::arg("name") = "", py::arg("size") = 64ull << 20, py::arg("keep") = false,
           py::arg("args") = std::vector<std::string>{}, py::arg("executable") = "", py::arg("log_fd") = -1,
           "Starts mpstate-manager as a child process serving name (log_fd: its standard error, else this "
           "process's).")
      .def_property_readonly("name", &Manager::name)
      .def_property_readonly("socket_path", &Manager::socket_path)
      .def_property_readonly("pid", &Manager::pid)
      .def("stop", &Manager::stop, py::call_guard<py::gil_scoped_release>(),
           "Stops the manager (SIGTERM, SIGKILL after 5 s) and waits for it.")
      .def("detach", &Manager::detach, "Leaves the manager running for the other processes that use it.");
}

}  // namespace mpstate::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "mpstate's C++ client, for Python: use the mpstate package, not this module.";
  using namespace mpstate::python;
  m.attr("__version__") = MPSTATE_VERSION;
  bind_client(m);
  bind_values(m);
  bind_counter(m);
  bind_containers(m);
  install_fast_dict_slots(m.attr("Dict"));
  m.def("_install_fast_dict_slots", &install_fast_dict_slots,
        "d[k], d[k] = v and del d[k] of a Dict subclass as raw slots.");
  bind_sync(m);
  bind_queue(m);
}
