// SPDX-License-Identifier: MIT
// Every op's handler, declared from the list of ops (core/op_table.hpp); each is
// defined in its type family's ops_*.cpp, and a missing one fails the link.
#pragma once

#include <nlohmann/json.hpp>

#include "op_call.hpp"

namespace mpstate::manager::ops {

// One per op of core/op_table.hpp, by type family: ops_service.cpp (hello, list,
// stat, dump, wait, shutdown, auth), ops_values.cpp (create, set, get, add, cas,
// grow, delete_, collect), ops_loops.cpp (loop_*), ops_sync.cpp (acquire, release,
// event_set, barrier_*, condition_*, notify), ops_containers.cpp (item_*, list_*,
// queue_*, task_done).
#define MPSTATE_OP_HANDLER(name) json name(op_call&);
MPSTATE_OPS(MPSTATE_OP_HANDLER)
#undef MPSTATE_OP_HANDLER

}  // namespace mpstate::manager::ops
