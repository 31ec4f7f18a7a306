// SPDX-License-Identifier: MIT
// mpstate._core's synchronisation types with threading's spelling: acquire(blocking,
// timeout), release(), context managers, Event, Condition, Barrier. Every blocking
// call lets go of the GIL. A lock taken back from a holder that died sets the
// proxy's previous_owner_died (repair what it guarded before trusting it).
#include <pybind11/functional.h>

#include "bindings.hpp"
#include "raw_methods.hpp"

namespace mpstate::python {
namespace {

py::object fence_or_none(const Fence& f) { return f ? py::cast(f) : py::none(); }

// An op of a lock's owner (release; a condition's wait and notify): misuse, a thread
// that does not hold it, is RuntimeError in threading, so it raises mpstate.NotHeld
// (a RuntimeError and an InvalidArgument).
template <class Fn>
decltype(auto) as_holder(Fn&& fn) {
  try {
    return fn();
  } catch (const error& e) {
    if (e.code() != errc::invalid_argument) throw;
    py::object not_held = py::module_::import("mpstate._core").attr("_not_held");
    PyErr_SetString(not_held.ptr(), e.message().c_str());
    throw py::error_already_set();
  }
}

template <class T>
struct py_sync {
  std::shared_ptr<client_handle> client;
  T proxy;
  bool previous_owner_died = false;
};

// Pickles a sync proxy as (manager, socket path, name); the variable exists by then,
// so the rebinding Client call only binds it.
template <class T, class Bind>
auto sync_pickle(Bind bind) {
  return py::pickle([](const py_sync<T>& s) { return pickled_state(*s.client, s.proxy.name()); },
                    [bind](const py::tuple& state) {
                      auto [c, name] = unpickled(state);
                      T proxy = bind(c->client, name);
                      return py_sync<T>{std::move(c), std::move(proxy)};
                    });
}

template <class T>
bool acquire_lock(py_sync<T>& s, bool blocking, const py::object& timeout) {
  const auto ms = lock_timeout_of(blocking, timeout);
  AcquireResult got;
  {
    py::gil_scoped_release unlocked;
    got = s.proxy.acquire(ms);
  }
  if (got.acquired) s.previous_owner_died = got.previous_owner_died;
  return got.acquired;
}

// acquire() and release() with no arguments as raw CPython methods (the common
// call; pybind11's dispatcher costs more than the lock): acquire tries once holding
// the GIL and lets go of it only to wait. Other call shapes go to _acquire.
template <class T>
PyObject* acquire_fast(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) noexcept {
  if (nargs != 0 || kwnames) return delegate(self, "_acquire", args, nargs, kwnames);
  py_sync<T>* s = instance_of<py_sync<T>>(self);
  if (!s) return nullptr;
  try {
    AcquireResult got = s->proxy.acquire(std::chrono::milliseconds::zero());
    if (!got.acquired) {
      py::gil_scoped_release unlocked;
      got = s->proxy.acquire(forever);
    }
    s->previous_owner_died = got.previous_owner_died;
    Py_RETURN_TRUE;
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
}

// __enter__: acquire(), then the lock itself, so `with lock as held:` can give
// held.fence to the writes it guards.
template <class T>
PyObject* enter_fast(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) noexcept {
  PyObject* got = acquire_fast<T>(self, args, nargs, kwnames);
  if (!got) return nullptr;
  Py_DECREF(got);
  Py_INCREF(self);
  return self;
}

template <class T>
PyObject* release_fast(PyObject* self, PyObject*) noexcept {
  py_sync<T>* s = instance_of<py_sync<T>>(self);
  if (!s) return nullptr;
  try {
    as_holder([&] { s->proxy.release(); });
    Py_RETURN_NONE;
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
}

template <class T>
PyObject* exit_fast(PyObject* self, PyObject* const*, Py_ssize_t, PyObject*) noexcept {
  return release_fast<T>(self, nullptr);
}

template <class T>
void install_fast_lock_methods(py::handle cls) {
  static PyMethodDef acquire_def = {"acquire", as_cfunction<&acquire_fast<T>>(), METH_FASTCALL | METH_KEYWORDS,
                                    "acquire($self, /, blocking=True, timeout=-1)\n--\n\n"
                                    "Takes the lock, waiting up to timeout seconds (-1: forever; blocking=False: not "
                                    "at all), as threading's acquire; True when taken. previous_owner_died says "
                                    "whether a dead holder left it."};
  static PyMethodDef release_def = {"release", &release_fast<T>, METH_NOARGS,
                                    "release($self, /)\n--\n\n"
                                    "Gives the holding back; NotHeld (a RuntimeError) when this thread does not hold "
                                    "it, OwnershipLost when the holding ended meanwhile."};
  static PyMethodDef enter_def = {
      "__enter__", as_cfunction<&enter_fast<T>>(), METH_FASTCALL | METH_KEYWORDS,
      "__enter__($self, /)\n--\n\nacquire(); returns the lock (its .fence is the holding's)."};
  static PyMethodDef exit_def = {"__exit__", as_cfunction<&exit_fast<T>>(), METH_FASTCALL | METH_KEYWORDS,
                                 "__exit__($self, /, *exc_info)\n--\n\nrelease()."};
  install_methods(cls, {&acquire_def, &release_def, &enter_def, &exit_def});
}

// Event.is_set() as a raw CPython method: a lock-free read of the committed flag.
PyObject* is_set_fast(PyObject* self, PyObject*) noexcept {
  py_sync<Event>* s = instance_of<py_sync<Event>>(self);
  if (!s) return nullptr;
  try {
    return PyBool_FromLong(s->proxy.is_set());
  } catch (...) {
    set_python_error_from_current();
    return nullptr;
  }
}

// A class whose variable `bind` binds (creating it when absent), pickled as its name.
template <class T, class Bind>
py::class_<py_sync<T>> sync_class(py::module_& m, const char* name, const char* doc, Bind bind) {
  return py::class_<py_sync<T>>(m, name, doc)
      .def(py::init([bind](std::shared_ptr<client_handle> c, const std::string& n) {
        T proxy = bind(c->client, n);
        return py_sync<T>{std::move(c), std::move(proxy)};
      }))
      .def(sync_pickle<T>(bind));
}

// Lock, RLock and Condition share acquire/release/locked and the context manager.
template <class T, class Bind>
py::class_<py_sync<T>> bind_lock_like(py::module_& m, const char* name, const char* doc, Bind bind) {
  return sync_class<T>(m, name, doc, bind)
      .def("acquire", &acquire_lock<T>, py::arg("blocking") = true, py::arg("timeout") = py::int_(-1),
           "Takes the lock, waiting up to timeout seconds (-1: forever; blocking=False: not at all), as "
           "threading's acquire; True when taken. previous_owner_died says whether a dead holder left it.")
      .def("_acquire", &acquire_lock<T>, py::arg("blocking") = true, py::arg("timeout") = py::int_(-1),
           "acquire() in full (the raw acquire's general path).")
      .def(
          "release", [](py_sync<T>& s) { as_holder([&] { s.proxy.release(); }); },
          "Gives the holding back (threading's release); NotHeld (a RuntimeError) when this thread does not hold it.")
      .def(
          "locked", [](const py_sync<T>& s) { return s.proxy.locked(); }, "Whether any process holds it now.")
      .def("__enter__",
           [](py::object self) {
             acquire_lock<T>(self.cast<py_sync<T>&>(), true, py::int_(-1));
             return self;
           })
      .def("__exit__", [](py_sync<T>& s, py::args) { as_holder([&] { s.proxy.release(); }); })
      .def_property_readonly(
          "fence", [](const py_sync<T>& s) { return fence_or_none(s.proxy.fence()); },
          "The holding this proxy acquired (an mpstate.Fence for fenced writes), or None.")
      .def_readonly("previous_owner_died", &py_sync<T>::previous_owner_died,
                    "Whether the last acquire took the lock from a holder that had died: repair what it guarded.")
      .def_property_readonly(
          "name", [](const py_sync<T>& s) { return s.proxy.name(); }, "The variable's name.")
      .def(
          "state", [](const py_sync<T>& s) { return plain_python(s.proxy.state()); },
          "The state as the dump shows it (a dict: the holder's pid, depth, fence, ...).");
}

}  // namespace

void bind_sync(py::module_& m) {
  py::class_<Fence>(m, "Fence",
                    "One holding of a lock, by its epoch: writes given it (fence=...) are made only "
                    "while that holding lasts, and raise OwnershipLost once it ended.")
      .def(py::init<std::string, std::uint64_t>(), py::arg("lock"), py::arg("epoch"))
      .def_property_readonly("lock", &Fence::lock, "The lock's name.")
      .def_property_readonly("epoch", &Fence::epoch, "The holding's epoch (grows with every fresh acquisition).")
      .def("__bool__", [](const Fence& f) { return static_cast<bool>(f); })
      .def("__eq__", [](const Fence& a, const Fence& b) { return a.lock() == b.lock() && a.epoch() == b.epoch(); })
      .def("__hash__", [](const Fence& f) { return py::hash(py::make_tuple(f.lock(), f.epoch())); })
      .def("__repr__",
           [](const Fence& f) { return "<mpstate.Fence '" + f.lock() + "' epoch " + std::to_string(f.epoch()) + ">"; })
      .def(py::pickle([](const Fence& f) { return py::make_tuple(f.lock(), f.epoch()); },
                      [](py::tuple t) { return Fence(t[0].cast<std::string>(), t[1].cast<std::uint64_t>()); }));
  install_fast_lock_methods<Lock>(bind_lock_like<Lock>(
      m, "Lock", "threading.Lock across processes: held by one process; a holder that dies releases it.",
      [](const Client& c, const std::string& n) { return c.lock(n); }));
  install_fast_lock_methods<RLock>(bind_lock_like<RLock>(
      m, "RLock", "threading.RLock across processes: one thread of one process holds it, as often as it acquired it.",
      [](const Client& c, const std::string& n) { return c.rlock(n); }));

  bind_lock_like<Condition>(m, "Condition", "threading.Condition across processes, over a reentrant lock of its own.",
                            [](const Client& c, const std::string& n) { return c.condition(n); })
      .def(
          "wait",
          [](py_sync<Condition>& s, const py::object& timeout) {
            const auto ms = timeout_of(timeout);
            bool notified = false;
            as_holder([&] {  // the GIL is let go inside and held again when as_holder raises
              py::gil_scoped_release unlocked;
              notified = s.proxy.wait(ms);
            });
            s.previous_owner_died = s.proxy.previous_owner_died();
            return notified;
          },
          py::arg("timeout") = py::none(),
          "Releases the lock, waits for a notify (or timeout seconds), takes the lock back; "
          "False on a timeout. NotHeld unless this thread holds it.")
      .def(
          "wait_for",
          [](py_sync<Condition>& s, const py::function& predicate, const py::object& timeout) {
            const auto ms = timeout_of(timeout);
            return as_holder([&] {
              py::gil_scoped_release unlocked;
              return s.proxy.wait_for(
                  [&] {
                    py::gil_scoped_acquire locked;
                    return predicate().cast<bool>();
                  },
                  ms);
            });
          },
          py::arg("predicate"), py::arg("timeout") = py::none(),
          "Waits until predicate() is true (checked under the lock) or timeout seconds pass; "
          "returns the predicate's last value.")
      .def(
          "notify", [](py_sync<Condition>& s, std::uint64_t n) { return as_holder([&] { return s.proxy.notify(n); }); },
          py::arg("n") = 1, "Wakes up to n waiters (the caller holds the condition); returns how many.")
      .def(
          "notify_all", [](py_sync<Condition>& s) { return as_holder([&] { return s.proxy.notify_all(); }); },
          "Wakes every waiter (the caller holds the condition); returns how many.");

  // Semaphores: the count is fixed when the variable is created; an existing one is
  // bound as it is.
  auto semaphore_class = [](py::module_& mod, const char* name, auto bounded) {
    using S = std::conditional_t<decltype(bounded)::value, BoundedSemaphore, Semaphore>;
    auto bind = [](const Client& c, const std::string& n, std::int64_t permits, bool return_dead) -> S {
      const auto recovery = return_dead ? PermitRecovery::return_dead_holders : PermitRecovery::none;
      if constexpr (decltype(bounded)::value)
        return c.bounded_semaphore(n, permits, recovery);
      else
        return c.semaphore(n, permits, recovery);
    };
    py::class_<py_sync<S>>(mod, name,
                           decltype(bounded)::value
                               ? "threading.BoundedSemaphore across processes: a release past the initial value "
                                 "raises."
                               : "threading.Semaphore across processes: a counter of permits.")
        .def(py::init(
                 [=](std::shared_ptr<client_handle> c, const std::string& n, std::int64_t permits, bool return_dead) {
                   S s = bind(c->client, n, permits, return_dead);
                   return py_sync<S>{std::move(c), std::move(s)};
                 }),
             py::arg("client"), py::arg("name"), py::arg("value") = 1, py::arg("return_dead_permits") = false)
        .def(
            "acquire",
            [](py_sync<S>& s, bool blocking, const py::object& timeout) {
              const auto ms = semaphore_timeout_of(blocking, timeout);
              py::gil_scoped_release unlocked;
              return s.proxy.acquire(ms);
            },
            py::arg("blocking") = true, py::arg("timeout") = py::none(),
            "Takes a permit, waiting up to timeout seconds (None: forever); True when taken.")
        .def(
            "release",
            [](py_sync<S>& s, int n) {
              for (int i = 0; i < n; ++i) s.proxy.release();
            },
            py::arg("n") = 1, "Gives n permits back.")
        .def(
            "get_value", [](const py_sync<S>& s) { return s.proxy.value(); }, "The permits free now.")
        .def(
            "state", [](const py_sync<S>& s) { return plain_python(s.proxy.state()); },
            "The semaphore's state as the dump shows it (a dict: value, bound, holders, ...).")
        .def("__enter__",
             [](py::object self) {
               auto& s = self.cast<py_sync<S>&>();
               {
                 py::gil_scoped_release unlocked;
                 s.proxy.acquire(forever);
               }
               return self;
             })
        .def("__exit__", [](py_sync<S>& s, py::args) { s.proxy.release(); })
        .def_property_readonly(
            "fence", [](const py_sync<S>& s) { return fence_or_none(s.proxy.fence()); },
            "Owned permits (return_dead_permits): this process's holding, as an mpstate.Fence; "
            "else None.")
        .def_property_readonly(
            "name", [](const py_sync<S>& s) { return s.proxy.name(); }, "The variable's name.")
        .def(sync_pickle<S>([=](const Client& c, const std::string& n) { return bind(c, n, 1, false); }));
  };
  semaphore_class(m, "Semaphore", std::false_type{});
  semaphore_class(m, "BoundedSemaphore", std::true_type{});

  static PyMethodDef is_set_def = {"is_set", &is_set_fast, METH_NOARGS,
                                   "is_set($self, /)\n--\n\nWhether the flag is set."};
  auto event_class = sync_class<Event>(m, "Event", "threading.Event across processes: a flag that waiters block on.",
                                       [](const Client& c, const std::string& n) { return c.event(n); });
  install_methods(event_class, {&is_set_def});
  event_class
      .def(
          "set", [](py_sync<Event>& s) { s.proxy.set(); }, "Sets the flag and wakes every waiter.")
      .def(
          "clear", [](py_sync<Event>& s) { s.proxy.clear(); }, "Resets the flag.")
      .def(
          "wait",
          [](const py_sync<Event>& s, const py::object& timeout) {
            const auto ms = timeout_of(timeout);
            py::gil_scoped_release unlocked;
            return s.proxy.wait(ms);
          },
          py::arg("timeout") = py::none(),
          "Blocks until the flag is set (or timeout seconds pass); returns the flag, True when set "
          "meanwhile even if cleared since.")
      .def_property_readonly(
          "name", [](const py_sync<Event>& s) { return s.proxy.name(); }, "The variable's name.");

  // parties is fixed when the variable is created; rebinding passes 0 (bound as is).
  auto bind_barrier = [](const Client& c, const std::string& n) { return c.barrier(n, 1); };
  py::class_<py_sync<Barrier>>(m, "Barrier", "threading.Barrier across processes (use mpstate's BarrierProxy).")
      .def(py::init([](std::shared_ptr<client_handle> c, const std::string& n, std::int64_t parties) {
        Barrier b = c->client.barrier(n, parties);
        return py_sync<Barrier>{std::move(c), std::move(b)};
      }))
      .def(
          "wait",
          [](py_sync<Barrier>& s, const py::object& timeout, const py::object& action) {
            const auto ms = timeout_of(timeout);
            if (action.is_none()) {
              py::gil_scoped_release unlocked;
              return s.proxy.wait(ms);
            }
            std::function<void()> run = [&action] {  // the last party, GIL taken back for it
              py::gil_scoped_acquire held;
              action();
            };
            py::gil_scoped_release unlocked;
            return s.proxy.wait(ms, run);
          },
          py::arg("timeout") = py::none(), py::arg("action") = py::none(),
          "Waits for all parties; the last to arrive calls action() (if given) before anyone passes.")
      .def(
          "reset", [](py_sync<Barrier>& s) { s.proxy.reset(); },
          "threading.Barrier.reset(): waiting parties leave with BrokenBarrierError, then the barrier is usable again.")
      .def(
          "abort", [](py_sync<Barrier>& s) { s.proxy.abort(); },
          "Breaks the barrier: every waiter, and every later wait() until reset(), raises BrokenBarrierError.")
      .def_property_readonly(
          "parties", [](const py_sync<Barrier>& s) { return s.proxy.parties(); },
          "The parties that must wait for it to trip.")
      .def_property_readonly(
          "n_waiting", [](const py_sync<Barrier>& s) { return s.proxy.n_waiting(); }, "The parties waiting now.")
      .def_property_readonly(
          "broken", [](const py_sync<Barrier>& s) { return s.proxy.broken(); },
          "Whether the barrier is broken (abort(), a timeout, or a waiting party died).")
      .def_property_readonly(
          "name", [](const py_sync<Barrier>& s) { return s.proxy.name(); }, "The variable's name.")
      .def(sync_pickle<Barrier>(bind_barrier));
}

}  // namespace mpstate::python
