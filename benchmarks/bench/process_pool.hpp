// SPDX-License-Identifier: MIT
// Forked workers that start together (a barrier) and report through shared memory.
#pragma once

#include <functional>
#include <vector>

#include "bench_types.hpp"

namespace mpstate::bench {

class process_pool {
 public:
  explicit process_pool(int procs);
  ~process_pool();
  process_pool(const process_pool&) = delete;
  process_pool& operator=(const process_pool&) = delete;

  // Forks the workers; each runs setup(rank), waits at the barrier, then body(rank, slot).
  // Returns when all have exited. Throws when one fails (its message included).
  void run(const std::function<void(int rank)>& setup, const std::function<void(int rank, worker_slot& slot)>& body);
  std::vector<const worker_slot*> slots() const;

 private:
  struct shared_area;
  int procs_;
  shared_area* area_;
};

}  // namespace mpstate::bench
