// SPDX-License-Identifier: MIT
// The Python extension mpstate._core: pybind11 classes over the C++ client library.
// One implementation: every proxy here is the C++ proxy (mpstate/client.hpp), with
// Python's spelling, exceptions and value types around it. The pure-Python layer
// (python/mpstate/__init__.py) adds the Manager, Namespace, list and asyncio forms.
#pragma once

#include <pybind11/pybind11.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mpstate/client.hpp"
#include "mpstate/json.hpp"

namespace mpstate::python {

namespace py = pybind11;

// How a value JSON cannot hold is kept (docs/python.md, "Objects JSON cannot hold"):
// refused with a TypeError, or pickled, by a client made with serializer="pickle".
// Only such a client ever unpickles a stored value.
enum class serializer : bool { json, pickle };

// Where a manager is, and how this process's proxies to it keep values: what a
// pickled proxy carries instead of its value.
struct address {
  std::string manager_name;
  std::string socket_path;  // empty: the default path for manager_name
  serializer codec = serializer::json;
};

// One client per manager per process, shared by the proxies made from it (and by
// those unpickled here), so a process maps each segment once.
struct client_handle {
  address where;
  Client client;
};
std::shared_ptr<client_handle> client_for(const address& where, Transport transport = Transport::automatic);
// A pickled proxy's state, (manager, socket path, name[, "pickle"]), and back: the
// client (as client_for gives it) and the name.
py::tuple pickled_state(const client_handle& client, const std::string& name);
std::pair<std::shared_ptr<client_handle>, std::string> unpickled(const py::tuple& state);

// ---- values (convert.cpp) ----
// The mpstate type a Python value is stored as: bool, int64 (uint64 beyond it),
// double, string, bytes, else json (lists, dicts, None, nested). TypeError for what
// JSON cannot hold (unless pickled).
std::string type_name_for(py::handle value, serializer codec);
// A stored value's JSON and back (json_values.cpp): bytes, proxies and (with the
// pickle serializer) pickled objects nested in it as {"$mpstate": {...}}; TypeError
// for what it cannot hold, OutOfRange past 64-bit ints.
nlohmann::json to_json(py::handle value, serializer codec);
py::object to_python(const nlohmann::json& value, serializer codec);
// JSON as Python objects, tags left as they are (dump, state, raw requests).
py::object plain_python(const nlohmann::json& value);
// A dict key as the name segment of its variable, and back (dict_keys.cpp): plain
// str keys as they are, ints as ".i<n>", other str/float/None/tuples as ".j<hex of
// JSON>". TypeError for key types a dict cannot keep.
std::string key_segment(py::handle key);
// A plain str key's segment without a copy: its own UTF-8 (cached in the str, valid
// while the key lives); empty when the key is not one (key_segment makes it).
std::string_view plain_str_key(py::handle key);
py::object key_of_segment(const std::string& segment);
// Creates the plain variable `name` of `type` (type_name_for) holding `value`.
// Returns false when the name is taken (already_exists), true when created.
bool create_plain(const client_handle& client, const std::string& name, const std::string& type, py::handle value);
// Sends a create request; false when the name is taken.
bool create_if_absent(const Client& client, nlohmann::json create_request);
// A Python timeout for C++, checked as threading checks it (OverflowError past
// threading.TIMEOUT_MAX, TypeError for no number): None is forever, a negative one or
// block=False is zero (threading's waits return at once).
std::chrono::milliseconds timeout_of(const py::object& timeout, bool block = true);
// threading.Lock.acquire(blocking, timeout): -1 (or None) is forever; a timeout with
// blocking=False, or a negative one other than -1, is ValueError.
std::chrono::milliseconds lock_timeout_of(bool blocking, const py::object& timeout);
// threading.Semaphore.acquire(blocking, timeout): a timeout with blocking=False is ValueError.
std::chrono::milliseconds semaphore_timeout_of(bool blocking, const py::object& timeout);
// queue.Queue.get/put(block, timeout): a negative timeout is ValueError.
std::chrono::milliseconds queue_timeout_of(const py::object& timeout, bool block);
// The same for calls that take a deadline rather than forever: None is 100 years.
std::chrono::milliseconds deadline_timeout_of(const py::object& timeout);
// Raises `python_class` (a module attribute path such as "queue.Empty") with `message`.
[[noreturn]] void raise_python(const char* module, const char* python_class, const std::string& message);

// Sets the Python exception for an mpstate::error (the class of its code), or for
// the exception being handled (inside a catch block): for raw CPython entry points,
// which pybind11's translators do not cover.
void set_python_error(const error& e);
void set_python_error_from_current() noexcept;

// ---- the classes, by family ----
void bind_client(py::module_& m);      // module.cpp: Client, ManagerProcess, errors
void bind_values(py::module_& m);      // values.cpp: Value
void bind_counter(py::module_& m);     // counter.cpp: Counter
void bind_containers(py::module_& m);  // containers.cpp: Dict, Array
// d[k], d[k] = v and del d[k] of a Dict class (or a Python subclass, which CPython
// would otherwise send through __getitem__) as raw mapping slots.
void install_fast_dict_slots(py::handle cls);
void bind_sync(py::module_& m);   // sync.cpp: Lock ... Barrier
void bind_queue(py::module_& m);  // queue.cpp: Queue, JoinableQueue, LoopState

}  // namespace mpstate::python
