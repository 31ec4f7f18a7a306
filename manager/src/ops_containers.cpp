// SPDX-License-Identifier: MIT
// Arrays, lists and queues: items by index, appends and inserts that grow the
// record, pops, and the queue's put, get and task_done.
#include <nlohmann/json.hpp>

#include "mpstate/core/array_ops.hpp"
#include "mpstate/core/queue_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "op_handlers.hpp"

namespace mpstate::manager::ops {

using namespace mpstate::core;

json item_get(op_call& call) {
  variable_record& r = call.existing();
  return {{"value", item_to_json(r, read_item(r, require_integer(call.request, "index")))}};
}

json item_set(op_call& call) {
  variable_record& r = call.existing();
  write_item(r, require_integer(call.request, "index"), item_from_json(r, require_field(call.request, "value")));
  return {{"version", r.version.load()}};
}

json list_append(op_call& call) {
  const std::string name = require_string(call.request, "name");
  variable_record* r = &call.existing();
  std::vector<std::uint64_t> items;
  if (call.request.contains("items")) {
    const json& list = require_field(call.request, "items");
    if (!list.is_array()) throw error(errc::bad_request, "field 'items' must be an array");
    for (const json& item : list) items.push_back(item_from_json(*r, item));
  } else {
    items.push_back(item_from_json(*r, require_field(call.request, "value")));
  }
  std::uint64_t size = 0;
  call.growing(name, r, [&](variable_record& v) { size = append_items(v, items); });
  return {{"size", size}};
}

json list_insert(op_call& call) {
  const std::string name = require_string(call.request, "name");
  variable_record* r = &call.existing();
  const std::uint64_t bits = item_from_json(*r, require_field(call.request, "value"));
  const std::int64_t index = require_integer(call.request, "index");
  std::uint64_t size = 0;
  call.growing(name, r, [&](variable_record& v) { size = insert_item(v, index, bits); });
  return {{"size", size}};
}

// An op's locks come before its commit: a lock met busy after it would retry a
// change already made (the element type is read first for that reason).
json list_pop(op_call& call) {
  variable_record& r = call.existing();
  const value_type element = element_type_of(r);
  const std::uint64_t bits = pop_item(r, optional_integer(call.request, "index", -1));
  return {{"value", element_to_json(element, std::string(reinterpret_cast<const char*>(&bits), sizeof bits))}};
}

json queue_put(op_call& call) {
  variable_record* r = &call.existing();
  const std::string item =
      element_from_json(r->name_view(), read_queue(*r).element, require_field(call.request, "value"));
  queue_attempt a;
  r = call.growing(require_string(call.request, "name"), r, [&](variable_record& q) { a = try_put(q, item); });
  return {{"ok", a.done}, {"version", a.version}};
}

json queue_get(op_call& call) {
  variable_record& r = call.existing();
  const value_type element = read_queue(r).element;
  std::string item;
  queue_attempt a = try_get(r, item);
  json result = {{"ok", a.done}, {"version", a.version}};
  if (a.done) result["value"] = element_to_json(element, item);
  return result;
}

json task_done(op_call& call) { return {{"unfinished", core::task_done(call.existing())}}; }

}  // namespace mpstate::manager::ops
