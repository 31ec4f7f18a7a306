// SPDX-License-Identifier: MIT
// Queues: Python's Queue and JoinableQueue across processes. A bounded FIFO of typed
// items kept as a ring in the record's one slot (queue_header in layout.hpp): put
// writes the item, then publishes it by one store of the tail; get copies the head
// item, then takes it by one store of the head. A process killed at any point leaves
// the item queued or not, never half.
//
// Nothing here blocks: a blocking put or get is the caller's loop of try + wait on
// the record's version (a futex, no polling); every put, get and task_done commits
// a version and so wakes the waiters.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "mpstate/core/layout.hpp"

namespace mpstate::core {

struct queue_spec {
  value_type element = value_type::json;
  std::uint64_t max_items = 0;  // the ring's slots
  std::uint64_t item_size = 0;
  bool unbounded = false;  // a full ring grows (Python's maxsize 0)
};
// From a create request's value: {"of": type (default json), "maxsize": items (0 or
// absent: unbounded, starting with 64 slots), "item_size": bytes (8 for scalars;
// default 256)}. invalid_argument else.
queue_spec queue_spec_from_json(std::string_view name, const nlohmann::json& initial);
// The slot bytes a queue of that shape needs (value_too_large beyond the record limit).
std::uint64_t queue_capacity(const queue_spec& spec);
void init_queue(variable_record& r, const queue_spec& spec);
// Online growth: the capacity a queue needs for items of `item_size` bytes, and the
// copy of its header and items into a new record laid out for them (the manager
// holds `from`'s lock; `to` is not yet visible to anyone).
std::uint64_t grown_queue_capacity(variable_record& from, std::uint64_t item_size, std::uint64_t slots);
void copy_queue(variable_record& from, variable_record& to, std::uint64_t item_size, std::uint64_t slots);

// What one attempt saw: whether it did its work, and the version to wait out if not.
struct queue_attempt {
  bool done = false;
  std::uint64_t version = 0;
};
// Appends `item` (its encoded bytes) unless the queue is full. buffer_too_small
// (value_too_large) when the item is over item_size, or when an unbounded queue's
// ring is full: the client asks the manager to grow it (the `grow` op) and tries again.
queue_attempt try_put(variable_record& r, std::string_view item);
// Takes the head item into `out` unless the queue is empty.
queue_attempt try_get(variable_record& r, std::string& out);
// Marks one item taken earlier as processed; invalid_argument when called more
// times than items were put (Python's ValueError).
// Returns the tasks still unfinished.
std::uint64_t task_done(variable_record& r);
// Done once every item put has been marked task_done.
queue_attempt all_tasks_done(variable_record& r);

struct queue_counts {
  value_type element = value_type::json;
  std::uint64_t size = 0, max_items = 0, item_size = 0, unfinished = 0, puts = 0, gets = 0;
  std::uint64_t slots = 0;  // the ring's; max_items is 0 when unbounded
  bool unbounded = false;
};
queue_counts read_queue(variable_record& r);

// {"of", "size", "maxsize" (0: unbounded), "slots", "item_size", "unfinished", "puts",
//  "gets", "items": [..]}
nlohmann::json queue_to_json(variable_record& r);
// The spec a saved queue_to_json() needs, and its items put back (a restored queue
// counts them as unfinished).
queue_spec queue_spec_from_saved(std::string_view name, const nlohmann::json& saved);
void restore_queue(variable_record& r, const nlohmann::json& saved);

}  // namespace mpstate::core
