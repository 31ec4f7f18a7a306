// SPDX-License-Identifier: MIT
// mpstate._core.Counter: a lock-free sharded int64 total (mpstate/counter.hpp) that
// many processes add to at once.
#include <nlohmann/json.hpp>

#include "any_value.hpp"

namespace mpstate::python {

namespace {
struct py_counter {
  std::shared_ptr<client_handle> client;
  Counter proxy;
};
}  // namespace

void bind_counter(py::module_& m) {
  py::class_<py_counter>(
      m, "Counter",
      "A total many processes add to at once without a lock: each add goes to the shard of "
      "the CPU it runs on, and value sums the shards. Past the int64 range it wraps (on Redis: OutOfRange). It "
      "cannot be set or waited on.")
      .def(py::init([](std::shared_ptr<client_handle> c, const std::string& name, const py::object& initial) {
             Counter proxy = c->client.counter(name, from_py<std::int64_t>(initial, serializer::json));
             return py_counter{std::move(c), std::move(proxy)};
           }),
           py::arg("client"), py::arg("name"), py::arg("initial") = 0)
      .def(
          "add",
          [](py_counter& self, const py::object& delta) {
            self.proxy.add(from_py<std::int64_t>(delta, serializer::json));
          },
          py::arg("delta") = 1, "Adds delta (an int; negative subtracts); returns None (read value for the total).")
      .def(
          "get", [](const py_counter& self) { return self.proxy.get(); }, "The total.")
      .def_property_readonly(
          "value", [](const py_counter& self) { return self.proxy.get(); }, "The total.")
      .def_property_readonly(
          "name", [](const py_counter& self) { return self.proxy.name(); }, "The variable's name.")
      .def("__repr__",
           [](const py_counter& self) {
             return "<mpstate.Counter '" + self.proxy.name() + "' " + std::to_string(self.proxy.get()) + ">";
           })
      .def(py::pickle([](const py_counter& self) { return pickled_state(*self.client, self.proxy.name()); },
                      [](const py::tuple& state) {
                        auto [c, name] = unpickled(state);
                        Counter proxy = c->client.counter(name);
                        return py_counter{std::move(c), std::move(proxy)};
                      }));
}

}  // namespace mpstate::python
