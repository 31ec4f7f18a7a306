// SPDX-License-Identifier: MIT
// The manager's handlers, indexed by op_code: the op table (core/op_table.hpp)
// declares each op once, and this array must give every one a handler, or the
// build fails.
#include <algorithm>
#include <array>

#include "op_handlers.hpp"

namespace mpstate::manager {
namespace {

using core::op_code;

// The handlers, and which ops have one (a function's address is not compared with
// nullptr at compile time under the sanitizers: the flags say it instead).
struct handler_table {
  std::array<op_handler, core::op_code_count> of{};
  std::array<bool, core::op_code_count> given{};
};

constexpr handler_table handlers = [] {
  handler_table h;
  auto on = [&h](op_code op, op_handler fn) {
    h.of[core::index_of(op)] = fn;
    h.given[core::index_of(op)] = true;
  };
  on(op_code::hello, &ops::hello);
  on(op_code::create, &ops::create);
  on(op_code::set, &ops::set);
  on(op_code::get, &ops::get);
  on(op_code::add, &ops::add);
  on(op_code::cas, &ops::cas);
  on(op_code::delete_, &ops::delete_);
  on(op_code::list, &ops::list);
  on(op_code::stat, &ops::stat);
  on(op_code::dump, &ops::dump);
  on(op_code::wait, &ops::wait);
  on(op_code::loop_get, &ops::loop_get);
  on(op_code::loop_mark, &ops::loop_mark);
  on(op_code::loop_heartbeat, &ops::loop_heartbeat);
  on(op_code::loop_request_stop, &ops::loop_request_stop);
  on(op_code::shutdown, &ops::shutdown);
  on(op_code::acquire, &ops::acquire);
  on(op_code::release, &ops::release);
  on(op_code::event_set, &ops::event_set);
  on(op_code::barrier_arrive, &ops::barrier_arrive);
  on(op_code::barrier_check, &ops::barrier_check);
  on(op_code::barrier_abort, &ops::barrier_abort);
  on(op_code::barrier_reset, &ops::barrier_reset);
  on(op_code::barrier_trip, &ops::barrier_trip);
  on(op_code::queue_put, &ops::queue_put);
  on(op_code::queue_get, &ops::queue_get);
  on(op_code::task_done, &ops::task_done);
  on(op_code::condition_wait, &ops::condition_wait);
  on(op_code::condition_check, &ops::condition_check);
  on(op_code::condition_cancel, &ops::condition_cancel);
  on(op_code::notify, &ops::notify);
  on(op_code::grow, &ops::grow);
  on(op_code::item_get, &ops::item_get);
  on(op_code::item_set, &ops::item_set);
  on(op_code::list_append, &ops::list_append);
  on(op_code::list_insert, &ops::list_insert);
  on(op_code::list_pop, &ops::list_pop);
  on(op_code::collect, &ops::collect);
  on(op_code::auth, &ops::auth);
  return h;
}();
static_assert(std::ranges::all_of(handlers.given, [](bool given) { return given; }),
              "every op of core/op_table.hpp has a handler here");

}  // namespace

json dispatch(op_code op, op_call& call) { return handlers.of[core::index_of(op)](call); }

}  // namespace mpstate::manager
