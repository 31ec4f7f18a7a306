// SPDX-License-Identifier: MIT
// Plain values and the life of every record: create, set, get, add, cas, grow,
// delete, collect.
#include <nlohmann/json.hpp>

#include "mpstate/core/array_ops.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/record_init.hpp"
#include "mpstate/core/value_codec.hpp"
#include "op_handlers.hpp"

namespace mpstate::manager::ops {

using namespace mpstate::core;

json create(op_call& call) {
  const json& request = call.request;
  std::string name = require_string(request, "name");
  value_type type = value_type_from_string(require_string(request, "type"));
  auto capacity = optional_integer(request, "capacity", 0);
  if (capacity < 0) throw error(errc::invalid_argument, "capacity must not be negative");
  const bool has_value = request.contains("value");
  const json initial = has_value ? request["value"] : json();
  if (has_own_ops(type) || is_sequence(type)) validate_variable_name(name);  // before the value's errors name it
  const std::uint64_t room =
      record_capacity(name, type, initial, static_cast<std::uint64_t>(capacity), record_origin::create);
  variable_record* r = call.segment.create_variable(name, type, room, [&](variable_record& v) {
    initialise_record(v, initial, has_value, record_origin::create);  // buffer_too_small: a larger record
  });
  return {{"name", name}, {"type", to_string(type)}, {"capacity", r->capacity}, {"version", r->version.load()}};
}

// A set of a variable that does not exist creates it, its type from the value's.
json set(op_call& call) {
  const json& request = call.request;
  std::string name = require_string(request, "name");
  const json& value = require_field(request, "value");
  validate_variable_name(name);
  variable_record* r = call.segment.find(name);
  if (!r) {
    auto capacity = optional_integer(request, "capacity", 0);
    if (capacity < 0) throw error(errc::invalid_argument, "capacity must not be negative");
    value_type type = type_for_json(value);
    std::uint64_t cap = static_cast<std::uint64_t>(capacity);
    if (!is_scalar(type) && cap == 0) {
      std::size_t need =
          type == value_type::string ? value.get_ref<const std::string&>().size() : encode_json_text(value).size();
      cap = std::max<std::uint64_t>(default_buffer_capacity, need);
    }
    auto create = [&] {
      return call.segment.create_variable(name, type, cap, [&](variable_record& v) { write_json_value(v, value); });
    };
    const std::optional<op_call::fence_spec> fence = call.fence();
    r = fence ? fenced(call.fence_lock(*fence), fence->epoch, create) : create();
    return {{"version", r->version.load()}};
  }
  r = call.growing(name, r, [&](variable_record& v) { call.as_fenced(v, [&] { write_json_value(v, value); }); });
  return {{"version", r->version.load()}};
}

json get(op_call& call) {
  variable_record& r = call.existing();
  if (r.capacity > deferred_answer_bytes &&
      (r.type == value_type::string || r.type == value_type::bytes || r.type == value_type::json)) {
    // A large value: its bytes are copied here (under its lock, as any read), and
    // turned into JSON off the event loop.
    std::string bytes;
    const std::uint64_t version = read_buffer(r, bytes);
    call.later = [type = r.type, version, bytes = std::move(bytes)] {
      json result(json::value_t::object);
      result["value"] = element_to_json(type, bytes);
      result["version"] = version;
      result["type"] = to_string(type);
      return result;
    };
    return nullptr;
  }
  json result(json::value_t::object);  // the hottest op: no initializer-list temporaries
  result["value"] = read_json_value(r);
  result["version"] = r.version.load();
  result["type"] = to_string(r.type);
  return result;
}

json add(op_call& call) {
  variable_record& r = call.existing();
  const json& delta = require_field(call.request, "delta");
  return {{"value", call.as_fenced(r, [&] { return add_json_value(r, delta); })}};
}

json cas(op_call& call) {
  json result;
  call.growing(require_string(call.request, "name"), &call.existing(), [&](variable_record& v) {
    call.as_fenced(v, [&] {
      result = compare_exchange_json_value(v, require_field(call.request, "expected"),
                                           require_field(call.request, "desired"));
    });
  });
  return result;
}

json grow(op_call& call) {
  const json& request = call.request;
  auto capacity = optional_integer(request, "capacity", 0);
  auto items = optional_integer(request, "items", 0);
  if (capacity < 0 || items < 0) throw error(errc::invalid_argument, "capacity and items must not be negative");
  if (!request.contains("capacity") && !request.contains("items")) {
    throw error(errc::missing_field, "grow needs 'capacity' (or, for an unbounded queue, 'items')");
  }
  variable_record* r = call.segment.grow_variable(
      require_string(request, "name"), {static_cast<std::uint64_t>(capacity), static_cast<std::uint64_t>(items)});
  return {{"capacity", r->capacity}, {"version", r->version.load()}};
}

json delete_(op_call& call) {
  std::string name = require_string(call.request, "name");
  validate_variable_name(name);
  call.segment.delete_variable(name);
  return json::object();
}

json collect(op_call& call) {
  std::string name = require_string(call.request, "name");
  validate_variable_name(name);
  return {{"removed", call.segment.collect_variable(name)}};
}

}  // namespace mpstate::manager::ops
