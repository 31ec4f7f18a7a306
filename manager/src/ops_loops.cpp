// SPDX-License-Identifier: MIT
// Loop-state handles: read, owner transitions (as the request's epoch), heartbeats,
// and a stop asked by anyone.
#include <nlohmann/json.hpp>

#include "mpstate/core/loop_ops.hpp"
#include "op_handlers.hpp"

namespace mpstate::manager::ops {

using namespace mpstate::core;

json loop_get(op_call& call) { return loop_to_json(read_loop(call.existing())); }

json loop_mark(op_call& call) {
  variable_record& r = call.existing();
  loop_phase to = loop_phase_from_string(require_string(call.request, "state"));
  return loop_to_json(mark_loop(r, to, call.owner(), optional_string(call.request, "reason", ""), call.epoch()));
}

json loop_heartbeat(op_call& call) {
  variable_record& r = call.existing();
  auto count = optional_integer(call.request, "count", 1);
  if (count < 0) throw error(errc::invalid_argument, "count must not be negative");
  return loop_to_json(heartbeat_loop(r, call.owner(), static_cast<std::uint64_t>(count), call.epoch()));
}

json loop_request_stop(op_call& call) { return {{"state", to_string(request_loop_stop(call.existing()))}}; }

}  // namespace mpstate::manager::ops
