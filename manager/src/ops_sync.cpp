// SPDX-License-Identifier: MIT
// Locks, semaphores, events, barriers and conditions over the socket: each op tries
// once and never blocks (a client blocks with `wait` on the version). An op made
// as an owner acts for call.actor() and, when it carries one, as its epoch.
#include <nlohmann/json.hpp>

#include "op_handlers.hpp"

namespace mpstate::manager::ops {

using namespace mpstate::core;

// Not acquired, the answer says the version read before the try: a client waits on
// it straight away (a release after the read moved it), with no `get` first.
json acquire(op_call& call) {
  variable_record& r = call.existing();
  const sync_actor who = call.actor();
  const std::uint64_t before = r.version.load(std::memory_order_acquire);
  acquire_outcome out = try_acquire(r, who);
  if (!out.acquired && evict_dead_holders(r)) out = try_acquire(r, who);
  json answer = {{"acquired", out.acquired}, {"owner_died", out.previous_owner_died}, {"fence", out.fence}};
  if (!out.acquired) answer["version"] = before;
  return answer;
}

json release(op_call& call) { return {{"kept", core::release(call.existing(), call.actor(), call.epoch())}}; }

json event_set(op_call& call) {
  const json& set = require_field(call.request, "set");
  if (!set.is_boolean()) throw error(errc::bad_request, "field 'set' must be true or false");
  set_event(call.existing(), set.get<bool>());
  return json::object();
}

json barrier_arrive(op_call& call) {
  const json hold = call.request.value("hold", json(false));
  if (!hold.is_boolean()) throw error(errc::bad_request, "field 'hold' must be true or false");
  barrier_ticket t = arrive_at_barrier(call.existing(), call.actor(), hold.get<bool>());
  return {{"generation", t.generation}, {"index", t.index}, {"trip", t.trip}};
}

json barrier_check(op_call& call) {
  variable_record& r = call.existing();
  barrier_ticket t{static_cast<std::uint64_t>(require_integer(call.request, "generation")), 0};
  const sync_actor who = call.actor();
  evict_dead_holders(r);
  return {{"passed", barrier_passed(r, t, who)}};
}

json barrier_abort(op_call& call) {
  abort_barrier(call.existing());
  return json::object();
}

json barrier_reset(op_call& call) {
  reset_barrier(call.existing());
  return json::object();
}

json barrier_trip(op_call& call) {
  barrier_ticket t{static_cast<std::uint64_t>(require_integer(call.request, "generation")), 0};
  trip_barrier(call.existing(), t, call.actor());
  return json::object();
}

json condition_wait(op_call& call) { return {{"depth", begin_condition_wait(call.existing(), call.actor())}}; }

json condition_check(op_call& call) {
  variable_record& r = call.existing();
  evict_dead_holders(r);
  return {{"notified", condition_notified(r, call.actor())}};
}

json condition_cancel(op_call& call) { return {{"notified", cancel_condition_wait(call.existing(), call.actor())}}; }

json notify(op_call& call) {
  variable_record& r = call.existing();
  auto n = optional_integer(call.request, "n", 1);
  if (n < 0) throw error(errc::invalid_argument, "n must not be negative");
  evict_dead_holders(r);  // a dead waiter must not swallow a notification
  return {{"woken", notify_condition(r, call.actor(), static_cast<std::uint64_t>(n))}};
}

}  // namespace mpstate::manager::ops
