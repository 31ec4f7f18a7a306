// SPDX-License-Identifier: MIT
// mpstate._core.Queue / JoinableQueue (queue.Queue's spelling: put/get with block
// and timeout, queue.Full / queue.Empty) of JSON-able items, and LoopState.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "raw_methods.hpp"

namespace mpstate::python {
namespace {

using json = nlohmann::json;

template <class Q>
struct py_queue {
  std::shared_ptr<client_handle> client;
  Q proxy;
};

template <class Q>
void put(py_queue<Q>& q, py::handle item, bool block, const py::object& timeout) {
  json value = to_json(item, q.client->where.codec);
  const auto ms = queue_timeout_of(timeout, block);
  bool done;
  {
    py::gil_scoped_release unlocked;
    done = q.proxy.put(value, ms);
  }
  if (!done) raise_python("queue", "Full", "queue '" + q.proxy.name() + "' is full");
}

template <class Q>
py::object get(py_queue<Q>& q, bool block, const py::object& timeout) {
  const auto ms = queue_timeout_of(timeout, block);
  std::optional<json> item;
  {
    py::gil_scoped_release unlocked;
    item = q.proxy.get(ms);
  }
  if (!item) raise_python("queue", "Empty", "queue '" + q.proxy.name() + "' is empty");
  return to_python(*item, q.client->where.codec);
}

// put(item) and get() as raw CPython methods for the common call (one item, or no
// argument): pybind11's dispatcher would cost more than the queue operation. They
// try once holding the GIL, and let go of it only to wait; any other call shape
// goes to the pybind11 methods (_put, _get) with Python's full signature.
template <class Q>
PyObject* put_fast(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) noexcept {
  if (nargs != 1 || kwnames) return delegate(self, "_put", args, nargs, kwnames);
  py_queue<Q>* q = instance_of<py_queue<Q>>(self);
  if (!q) return nullptr;
  try {
    json value = to_json(args[0], q->client->where.codec);
    if (!q->proxy.put(value, std::chrono::milliseconds::zero())) {
      py::gil_scoped_release unlocked;
      q->proxy.put(value, forever);
    }
    Py_RETURN_NONE;
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
}

template <class Q>
PyObject* get_fast(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) noexcept {
  if (nargs != 0 || kwnames) return delegate(self, "_get", args, nargs, kwnames);
  py_queue<Q>* q = instance_of<py_queue<Q>>(self);
  if (!q) return nullptr;
  try {
    std::optional<json> item = q->proxy.get(std::chrono::milliseconds::zero());
    if (!item) {
      py::gil_scoped_release unlocked;
      item = q->proxy.get(forever);
    }
    return to_python(*item, q->client->where.codec).release().ptr();
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
}

template <class Q>
void install_fast_methods(py::handle cls) {
  static PyMethodDef put_def = {"put", as_cfunction<&put_fast<Q>>(), METH_FASTCALL | METH_KEYWORDS,
                                "put($self, /, item, block=True, timeout=None)\n--\n\n"
                                "Adds item at the end, waiting up to timeout seconds (None: forever) for room; "
                                "queue.Full when it stays full."};
  static PyMethodDef get_def = {"get", as_cfunction<&get_fast<Q>>(), METH_FASTCALL | METH_KEYWORDS,
                                "get($self, /, block=True, timeout=None)\n--\n\n"
                                "Removes and returns the first item, waiting up to timeout seconds (None: forever); "
                                "queue.Empty when it stays empty."};
  install_methods(cls, {&put_def, &get_def});
}

template <class Q>
py::class_<py_queue<Q>> bind_queue_class(py::module_& m, const char* name, const char* doc) {
  auto make = [](const Client& c, const std::string& n, std::uint64_t maxsize) -> Q {
    if constexpr (std::is_same_v<Q, JoinableQueue<json>>)
      return c.joinable_queue<json>(n, maxsize);
    else
      return c.queue<json>(n, maxsize);
  };
  return py::class_<py_queue<Q>>(m, name, doc)
      .def(py::init([=](std::shared_ptr<client_handle> c, const std::string& n, std::uint64_t maxsize) {
             Q q = make(c->client, n, maxsize);
             return py_queue<Q>{std::move(c), std::move(q)};
           }),
           py::arg("client"), py::arg("name"), py::arg("maxsize") = 0)
      .def("_put", &put<Q>, py::arg("item"), py::arg("block") = true, py::arg("timeout") = py::none(),
           "put() in full (the raw put's general path).")
      .def(
          "put_nowait", [](py_queue<Q>& q, py::handle item) { put<Q>(q, item, false, py::none()); },
          "put(item, False): QueueFull when full.")
      .def("_get", &get<Q>, py::arg("block") = true, py::arg("timeout") = py::none(),
           "get() in full (the raw get's general path).")
      .def(
          "get_nowait", [](py_queue<Q>& q) { return get<Q>(q, false, py::none()); },
          "get(False): QueueEmpty when empty.")
      .def(
          "qsize", [](const py_queue<Q>& q) { return q.proxy.size(); }, "The items in the queue now.")
      .def(
          "empty", [](const py_queue<Q>& q) { return q.proxy.empty(); }, "Whether the queue is empty now.")
      .def(
          "full", [](const py_queue<Q>& q) { return q.proxy.full(); },
          "Whether the queue is full now (never, unbounded).")
      .def_property_readonly(
          "maxsize", [](const py_queue<Q>& q) { return q.proxy.maxsize(); }, "The most items it holds (0: unbounded).")
      .def_property_readonly(
          "name", [](const py_queue<Q>& q) { return q.proxy.name(); }, "The variable's name.")
      .def(py::pickle([](const py_queue<Q>& q) { return pickled_state(*q.client, q.proxy.name()); },
                      [=](const py::tuple& state) {
                        auto [c, name] = unpickled(state);
                        Q q = make(c->client, name, 0);
                        return py_queue<Q>{std::move(c), std::move(q)};
                      }));
}

py::dict loop_info(const LoopState& loop) {
  const LoopInfo info = loop.info();
  auto seconds = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  };
  py::dict out;
  out["state"] = std::string(to_string(info.state));
  out["pid"] = info.pid;
  out["iterations"] = info.iterations;
  out["started"] = seconds(info.started);
  out["last_heartbeat"] = seconds(info.last_heartbeat);
  out["reason"] = info.reason;
  return out;
}

}  // namespace

void bind_queue(py::module_& m) {
  install_fast_methods<Queue<json>>(bind_queue_class<Queue<json>>(
      m, "Queue", "queue.Queue across processes: put/get with block and timeout, queue.Full and queue.Empty."));
  install_fast_methods<JoinableQueue<json>>(
      bind_queue_class<JoinableQueue<json>>(m, "JoinableQueue",
                                            "A Queue with task_done() and join(), as multiprocessing.JoinableQueue.")
          .def(
              "task_done", [](py_queue<JoinableQueue<json>>& q) { q.proxy.task_done(); },
              "Marks one item taken with get() as processed; ValueError when more than were taken.")
          .def(
              "join",
              [](const py_queue<JoinableQueue<json>>& q, const py::object& timeout) {
                const auto ms = timeout_of(timeout);
                py::gil_scoped_release unlocked;
                return q.proxy.join(ms);
              },
              py::arg("timeout") = py::none(),
              "Blocks until every item put has been marked task_done() (or timeout seconds pass); False on a "
              "timeout."));

  using loop = py_queue<LoopState>;  // the same shape: a client and a proxy
  py::class_<loop>(m, "LoopState")
      .def(py::init([](std::shared_ptr<client_handle> c, const std::string& n) {
             LoopState l = c->client.loop(n);
             return loop{std::move(c), std::move(l)};
           }),
           py::arg("client"), py::arg("name"))
      .def(
          "mark_starting", [](loop& l) { l.proxy.mark_starting(); },
          "This process takes the loop (idle, stopped or failed -> starting) and owns it until it stops.")
      .def(
          "mark_running", [](loop& l) { l.proxy.mark_running(); }, "starting -> running (the owner).")
      .def(
          "heartbeat", [](loop& l, std::uint64_t n) { l.proxy.heartbeat(n); }, py::arg("iterations") = 1,
          "The owner's sign of life: counts `iterations` and stamps last_heartbeat; OwnershipLost when this "
          "process no longer owns the loop.")
      .def(
          "stop_requested", [](const loop& l) { return l.proxy.stop_requested(); },
          "Whether another process asked the loop to stop (the owner polls this).")
      .def(
          "mark_stopped", [](loop& l) { l.proxy.mark_stopped(); }, "The owner's loop has ended (-> stopped).")
      .def(
          "mark_failed", [](loop& l, const std::string& reason) { l.proxy.mark_failed(reason); }, py::arg("reason"),
          "The owner's loop failed, with a reason the others read in info().")
      .def_property_readonly(
          "state", [](const loop& l) { return std::string(to_string(l.proxy.state())); },
          "idle, starting, running, stopping, stopped or failed (its owner died).")
      .def(
          "info", [](const loop& l) { return loop_info(l.proxy); },
          "A dict: state ('idle', 'starting', 'running', 'stopping', 'stopped', 'failed'), pid (the owner, 0 when "
          "none), iterations (heartbeats counted), started and last_heartbeat (seconds since the epoch, 0.0 when "
          "never), reason (why it failed, or '').")
      .def(
          "request_stop", [](loop& l) { return std::string(to_string(l.proxy.request_stop())); },
          "Asks the owner to stop (running -> stopping); returns the state after the request.")
      .def(
          "wait_for",
          [](const loop& l, const std::string& state, const py::object& timeout) {
            const LoopPhase target = core::loop_phase_from_string(state);
            const auto ms = deadline_timeout_of(timeout);
            LoopPhase got;
            {
              py::gil_scoped_release unlocked;
              got = l.proxy.wait_for(target, ms);
            }
            return std::string(to_string(got));
          },
          py::arg("state"), py::arg("timeout") = py::none(),
          "Blocks (without the GIL) until the loop is in state (or failed); returns the state then.")
      .def_property_readonly(
          "version", [](const loop& l) { return l.proxy.version(); },
          "Grows with every change of the loop's state or heartbeat.")
      .def_property_readonly(
          "epoch", [](const loop& l) { return l.proxy.epoch(); },
          "The epoch of the ownership this proxy took with mark_starting (0: none).")
      .def_property_readonly(
          "name", [](const loop& l) { return l.proxy.name(); }, "The variable's name.")
      .def(py::pickle([](const loop& l) { return pickled_state(*l.client, l.proxy.name()); },
                      [](const py::tuple& state) {
                        auto [c, name] = unpickled(state);
                        LoopState l = c->client.loop(name);
                        return loop{std::move(c), std::move(l)};
                      }));
}

}  // namespace mpstate::python
