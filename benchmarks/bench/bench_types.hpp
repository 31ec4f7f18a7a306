// SPDX-License-Identifier: MIT
// mpstate-bench: options, the per-process result slot, and the timed loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mpstate::bench {

struct bench_options {
  std::string op = "get";            // get set add cas update lock wait lookup memory
  int procs = 1;                     // forked worker processes
  double seconds = 1.0;              // timed part of each run
  std::size_t value_size = 8;        // 8: int64; more: a string of that many bytes
  std::size_t variables = 1;         // variables the workers spread over
  std::string transport = "local";   // local | socket | tcp | tls
  long busy_poll_us = 0;             // the embedded manager's --busy-poll
  bool local_writer = false;         // wait: rank 0 writes through shared memory, the rest wait over `transport`
  std::string redis;                 // --transport redis: the Redis URL (the Redis backend)
  int pipeline = 1;                  // socket requests in flight per worker
  std::string system = "both";       // mpstate | baseline | both
  std::string manager;               // use this running manager (default: an embedded one)
  std::uint64_t cycles = 1'000'000;  // churn: create+delete cycles
  bool json = false;
};

// One worker's figures, written by the child into shared memory.
struct worker_slot {
  static constexpr std::uint32_t max_samples = 1 << 16;
  std::uint64_t ops = 0;
  std::uint64_t elapsed_ns = 0;
  std::uint64_t checked = 0;  // op-specific count for the correctness check (e.g. cas successes)
  std::uint32_t sample_count = 0;
  std::uint32_t sample_stride = 1;
  std::uint64_t sample_tick = 0;
  std::int32_t exit_code = 0;
  char error[240] = {};
  float samples[max_samples];  // ns per op, one per timed batch

  // Keeps at most max_samples, evenly thinned as the run goes on.
  void add_sample(double ns) {
    if (sample_tick++ % sample_stride != 0) return;
    if (sample_count == max_samples) {
      for (std::uint32_t i = 0; i < max_samples / 2; ++i) samples[i] = samples[2 * i];
      sample_count = max_samples / 2;
      sample_stride *= 2;
    }
    samples[sample_count++] = static_cast<float>(ns);
  }
};

// Runs `op(i)` for `seconds`, timing batches of `batch` ops (ns per op in the batch).
// Batches keep the clock's own ~20 ns out of sub-10 ns operations.
// Where a timed loop stores what it read, so the compiler cannot drop the read.
inline volatile std::int64_t sink;

template <class Op>
void timed_loop(worker_slot& slot, double seconds, int batch, Op&& op) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(seconds));
  std::uint64_t i = 0;
  while (true) {
    const auto t0 = clock::now();
    for (int k = 0; k < batch; ++k) op(i++);
    const auto t1 = clock::now();
    slot.add_sample(std::chrono::duration<double, std::nano>(t1 - t0).count() / batch);
    if (t1 >= end) break;
  }
  slot.ops = i;
  slot.elapsed_ns = static_cast<std::uint64_t>(std::chrono::duration<double, std::nano>(clock::now() - start).count());
}

struct run_result {
  std::string system;   // mpstate | baseline
  std::string variant;  // local, socket, socket-p16 / mutex, seqlock, boost-find, socket-rtt
  std::string op;
  int procs = 0;
  std::size_t value_size = 8;
  std::size_t variables = 1;
  double ops_per_s = 0;
  std::vector<double> per_process_ops_per_s;
  double p50_ns = 0, p99_ns = 0, p999_ns = 0;
  std::uint64_t ops = 0;  // every worker's, together
  // The server's CPU per request, in µs (= CPU seconds per million requests): the
  // manager's for a socket run (negative: not measured).
  double server_cpu_us_per_op = -1;
  std::string check;  // "ok", "n/a", or what went wrong
  nlohmann::json to_json() const;
};

// Collects the slots of one run into a result. Throws when a worker failed.
run_result summarise(const std::string& system, const std::string& variant, const bench_options& o,
                     const std::vector<const worker_slot*>& slots);

}  // namespace mpstate::bench
