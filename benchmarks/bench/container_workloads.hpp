// SPDX-License-Identifier: MIT
// The timed loops over the Python-parity containers: Dict<T>::get of an existing key
// (bound once, as a Dict proxy keeps it), the two layouts a dict could have had
// instead (a name lookup per call; one json value holding every key), and a Queue
// put + get.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bench_types.hpp"
#include "mpstate/json.hpp"
#include "mpstate/mpstate.hpp"

namespace mpstate::bench {

// dict-get, dict-lookup, json-dict-get, queue
bool is_container_op(const std::string& op);
// Creates what the op reads: o.variables keys under bench/d, the same in one json
// value bench/blob, the queue bench/q.
void create_containers(const bench_options& o, const Client& client);
void container_loop(const bench_options& o, const Client& client, int rank, worker_slot& slot);
// "ok" when the queue holds what it should after the run.
std::string check_containers(const bench_options& o, const Client& client);

}  // namespace mpstate::bench
