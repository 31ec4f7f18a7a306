// SPDX-License-Identifier: MIT
// Every op's handler, by type family (one ops_*.cpp file each). op_dispatch.cpp puts
// them in an array indexed by op_code and checks at compile time that none is missing.
#pragma once

#include "op_call.hpp"

namespace mpstate::manager::ops {

// ops_service.cpp: the manager itself
json hello(op_call&);
json list(op_call&);
json stat(op_call&);
json dump(op_call&);
json wait(op_call&);
json shutdown(op_call&);
json auth(op_call&);
// ops_values.cpp: plain values and the life of every record
json create(op_call&);
json set(op_call&);
json get(op_call&);
json add(op_call&);
json cas(op_call&);
json grow(op_call&);
json delete_(op_call&);
json collect(op_call&);
// ops_loops.cpp
json loop_get(op_call&);
json loop_mark(op_call&);
json loop_heartbeat(op_call&);
json loop_request_stop(op_call&);
// ops_sync.cpp: locks, semaphores, events, barriers, conditions
json acquire(op_call&);
json release(op_call&);
json event_set(op_call&);
json barrier_arrive(op_call&);
json barrier_check(op_call&);
json barrier_abort(op_call&);
json barrier_reset(op_call&);
json barrier_trip(op_call&);
json condition_wait(op_call&);
json condition_check(op_call&);
json condition_cancel(op_call&);
json notify(op_call&);
// ops_containers.cpp: arrays, lists and queues
json item_get(op_call&);
json item_set(op_call&);
json list_append(op_call&);
json list_insert(op_call&);
json list_pop(op_call&);
json queue_put(op_call&);
json queue_get(op_call&);
json task_done(op_call&);

}  // namespace mpstate::manager::ops
