// SPDX-License-Identifier: MIT
// The timed loops over mpstate: bound proxies (local or socket), pipelined raw
// socket requests, the lock, change notification and name lookup.
#pragma once

#include <string>
#include <vector>

#include "bench_types.hpp"

namespace mpstate::bench {

struct mpstate_target {
  std::string manager_name;
  std::string socket_path;         // or tcp://127.0.0.1:PORT (--transport tcp)
  std::string key;                 // tcp: the manager's key
  std::vector<std::string> names;  // bench/v0 ... bench/v<K-1>
};

// Creates the K variables (int64, or strings of value_size bytes) plus the wait
// op's helpers, pipelining the creates over the socket.
void create_variables(const bench_options& o, mpstate_target& t);
// Runs the op in forked workers (binding before the barrier) and summarises them.
void run_mpstate(const bench_options& o, const mpstate_target& t, run_result& out);
// "ok" when the counters add up to the operations done, else what is wrong.
std::string check_counts(const mpstate_target& t, std::uint64_t expected);

}  // namespace mpstate::bench
