// SPDX-License-Identifier: MIT
// The one declaration of every wire op: its code, name, flags, fields and what it
// answers. The manager's handlers are an array made from the same list of ops
// (manager/src/op_dispatch.cpp); `mpstate-manager --list-ops` prints this table, and
// a test checks that docs/protocol.md documents each op. Adding an op: its name in
// MPSTATE_OPS, its row in op_specs (in code order), its handler in the manager (and
// its case in the Redis backend's switch, where the build asks for it).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mpstate::core {

// Every op, in code order: the op_code enum, and the manager's handler declarations
// and dispatch array (manager/src/op_handlers.hpp, op_dispatch.cpp), are made from
// this one list. Adding an op starts here.
// clang-format off
#define MPSTATE_OPS(X) X(hello) X(create) X(set) X(get) X(add) X(cas) X(delete_) X(list) X(stat) X(dump) X(wait) \
  X(loop_get) X(loop_mark) X(loop_heartbeat) X(loop_request_stop) X(shutdown) X(acquire) X(release) X(event_set) \
  X(barrier_arrive) X(barrier_check) X(barrier_abort) X(barrier_reset) X(barrier_trip) X(queue_put) X(queue_get) \
  X(task_done) X(condition_wait) X(condition_check) X(condition_cancel) X(notify) X(grow) X(item_get) X(item_set) \
  X(list_append) X(list_insert) X(list_pop) X(collect) X(auth) X(metrics)
// clang-format on

enum class op_code {
#define MPSTATE_OP_CODE(name) name,
  MPSTATE_OPS(MPSTATE_OP_CODE)
#undef MPSTATE_OP_CODE
};
// How many ops there are.
#define MPSTATE_OP_ONE(name) +1
constexpr std::size_t op_code_count = 0 MPSTATE_OPS(MPSTATE_OP_ONE);
#undef MPSTATE_OP_ONE
constexpr std::size_t index_of(op_code op) { return static_cast<std::size_t>(op); }

// What an op does, for the dispatchers, --list-ops and the docs.
enum op_flags : std::uint8_t {
  op_changes = 0,          // changes state (a read-only key may not send it)
  op_reads = 1 << 0,       // changes nothing: a read-only key may send it
  op_structural = 1 << 1,  // may make, grow or remove a record (the manager's allocator)
  op_owns = 1 << 2,        // made as or for an owner (a process, thread, lease or epoch)
  op_fenced = 1 << 3,      // takes a lock's fence: {"lock", "epoch"}
};

struct op_spec {
  op_code code;
  std::uint8_t flags;  // op_flags
  std::string_view name;
  std::string_view required;  // required fields, comma-separated
  std::string_view optional;  // optional fields
  std::string_view result;    // what "result" holds
  std::string_view summary;
};

// clang-format off
inline constexpr std::array<op_spec, op_code_count> op_specs = {{
    {op_code::hello, op_reads, "hello", "", "pid, layout_version, protocol_version",
     "{manager, segment, segment_size, layout_version, protocol_version, manager_pid, version, incarnation}",
     "Greets the manager; tells the client which segment to map."},
    {op_code::create, op_structural, "create", "name, type", "value, capacity", "{name, type, capacity, version}",
     "Creates a variable of a type (int64, uint64, double, bool, string, bytes, json, loop, lock, rlock, "
     "semaphore, bounded_semaphore, event, barrier, condition, queue, array, list, counter)."},
    {op_code::set, op_structural | op_fenced, "set", "name, value", "capacity, fence", "{version}",
     "Stores a value; creates the variable (type from the JSON value) when absent. With a fence "
     "{lock, epoch}: only while that lock is held with that epoch (else ownership_lost)."},
    {op_code::get, op_reads, "get", "name", "", "{value, version, type}", "Reads a value."},
    {op_code::add, op_fenced, "add", "name, delta", "fence", "{value}",
     "Adds to an int64, uint64, double or counter; returns the new value (a counter's total). Fenced as set."},
    {op_code::cas, op_structural | op_fenced, "cas", "name, expected, desired", "fence", "{ok, value}",
     "Compare-and-swap: stores desired when the value equals expected. Fenced as set."},
    {op_code::delete_, op_structural, "delete", "name", "", "{}", "Deletes a variable."},
    {op_code::list, op_reads, "list", "", "prefix", "{names: [..]}",
     "Names of the variables, sorted, optionally under a prefix."},
    {op_code::stat, op_reads, "stat", "", "", "{manager, segment, size, free_bytes, variables, ...}",
     "The manager's and the segment's figures."},
    {op_code::dump, op_reads, "dump", "", "prefix", "{variables: [{name, type, version, value, ...}]}",
     "Every variable (under a prefix) with its metadata."},
    {op_code::wait, op_reads, "wait", "name, version", "timeout_ms", "{version, changed}",
     "Answers when the variable's version differs from `version`, or at the timeout."},
    {op_code::loop_get, op_reads, "loop_get", "name", "", "{state, pid, iterations, ...}",
     "Reads a loop's state."},
    {op_code::loop_mark, op_owns, "loop_mark", "name, state", "reason, pid, epoch",
     "{state, pid, iterations, epoch, ...}",
     "Owner transition (starting, running, stopping, stopped, failed) for the calling process; `starting` "
     "begins a new epoch, the others made as `epoch` are refused ownership_lost once it ended."},
    {op_code::loop_heartbeat, op_owns, "loop_heartbeat", "name", "count, pid, epoch", "{state, iterations, epoch, ...}",
     "Owner heartbeat: adds `count` (default 1) iterations; ownership_lost once `epoch` ended."},
    {op_code::loop_request_stop, op_changes, "loop_request_stop", "name", "", "{state}",
     "Asks a starting or running loop to stop (state stopping)."},
    {op_code::shutdown, op_changes, "shutdown", "", "", "{}",
     "Stops the manager gracefully (after answering)."},
    {op_code::acquire, op_owns, "acquire", "name", "tid, pid", "{acquired, owner_died, fence, version}",
     "Tries once to take a lock, rlock or semaphore permit for the calling process (never blocks); `fence` "
     "is the holding's epoch; not acquired, `version` is the one to `wait` on."},
    {op_code::release, op_owns, "release", "name", "tid, pid, epoch", "{kept}",
     "Releases a lock, rlock or semaphore permit; made as the holding `epoch`, refused ownership_lost once it "
     "ended."},
    {op_code::event_set, op_changes, "event_set", "name, set", "", "{}", "Sets (true) or clears (false) an event."},
    {op_code::barrier_arrive, op_owns, "barrier_arrive", "name", "pid, hold", "{generation, index, trip}",
     "Arrives at a barrier; the last party trips it, or with hold holds the trip (trip true) to run an action "
     "first."},
    {op_code::barrier_check, op_owns, "barrier_check", "name, generation", "pid", "{passed}",
     "Whether that generation has tripped; broken_barrier when it broke instead."},
    {op_code::barrier_abort, op_changes, "barrier_abort", "name", "", "{}", "Breaks a barrier for every waiting party."},
    {op_code::barrier_reset, op_changes, "barrier_reset", "name", "", "{}",
     "Python's reset: waiting parties leave with broken_barrier, then it is usable again."},
    {op_code::barrier_trip, op_owns, "barrier_trip", "name, generation", "pid", "{}",
     "Lets everyone through after the held trip's action; broken_barrier when it broke meanwhile."},
    {op_code::queue_put, op_structural, "queue_put", "name, value", "", "{ok, version}",
     "Appends an item to a queue unless it is full (never blocks; wait on version to block)."},
    {op_code::queue_get, op_changes, "queue_get", "name", "", "{ok, value, version}",
     "Takes the head item of a queue unless it is empty (never blocks)."},
    {op_code::task_done, op_changes, "task_done", "name", "", "{unfinished}",
     "Marks one item taken from a queue as processed (JoinableQueue)."},
    {op_code::condition_wait, op_owns, "condition_wait", "name", "tid, pid", "{depth}",
     "Releases a condition's lock (held by the caller) and queues the caller as a waiter."},
    {op_code::condition_check, op_owns, "condition_check", "name", "tid, pid", "{notified}",
     "Whether the waiting caller has been notified (then it leaves the waiters)."},
    {op_code::condition_cancel, op_owns, "condition_cancel", "name", "tid, pid", "{notified}",
     "Leaves a condition's waiters after a timeout."},
    {op_code::notify, op_owns, "notify", "name", "n, tid, pid", "{woken}",
     "Notifies up to n (default 1) waiters of a condition whose lock the caller holds."},
    {op_code::grow, op_structural, "grow", "name", "capacity, items", "{capacity, version}",
     "Moves a string, bytes, json or list variable to a buffer of at least `capacity` bytes."},
    {op_code::item_get, op_reads, "item_get", "name, index", "", "{value}", "Reads one item of an array or list."},
    {op_code::item_set, op_changes, "item_set", "name, index, value", "", "{version}", "Writes one item of an array or list."},
    {op_code::list_append, op_structural, "list_append", "name", "value, items", "{size}",
     "Appends an item (or every item of `items`) to a list, growing it as needed."},
    {op_code::list_insert, op_structural, "list_insert", "name, index, value", "", "{size}", "Inserts an item before `index`."},
    {op_code::list_pop, op_changes, "list_pop", "name", "index", "{value}", "Removes and returns an item (default the last)."},
    {op_code::collect, op_structural, "collect", "name", "", "{removed}",
     "Removes a collectable variable (an unnamed Python proxy's) and those under '<name>/' when no process "
     "holds it bound; removed 0 when it stays."},
    {op_code::auth, op_reads, "auth", "challenge, proof", "", "{proof, access}",
     "TCP only, and first: proves the client holds the key, and the manager that it does too."},
    {op_code::metrics, op_reads, "metrics", "", "", "{text}",
     "The manager's figures in Prometheus's text format (docs/metrics.md), as its --metrics endpoint serves "
     "them."},
}};
// clang-format on

constexpr bool table_in_code_order() {
  for (std::size_t i = 0; i < op_specs.size(); ++i) {
    if (index_of(op_specs[i].code) != i) return false;
  }
  return true;
}
static_assert(table_in_code_order(), "op_specs lists the ops in op_code order, one row each");

constexpr const op_spec& spec_of(op_code op) { return op_specs[index_of(op)]; }
// The ops a read-only key may send: they change nothing.
constexpr bool only_reads(op_code op) { return (spec_of(op).flags & op_reads) != 0; }

}  // namespace mpstate::core
