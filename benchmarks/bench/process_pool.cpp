// SPDX-License-Identifier: MIT
#include "process_pool.hpp"

#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace mpstate::bench {

struct process_pool::shared_area {
  std::atomic<int> ready{0};
  std::atomic<int> go{0};
  worker_slot slots[1];  // really procs_ of them
};

namespace {
std::size_t area_size(int procs) {
  return sizeof(std::atomic<int>) * 16 + sizeof(worker_slot) * static_cast<std::size_t>(procs);
}
}  // namespace

process_pool::process_pool(int procs) : procs_(procs) {
  if (procs < 1 || procs > 256) throw std::invalid_argument("--procs must be 1..256");
  void* p = mmap(nullptr, area_size(procs), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::runtime_error("mmap of the result area failed");
  area_ = new (p) shared_area;
  for (int i = 0; i < procs; ++i) new (&area_->slots[i]) worker_slot;
}

process_pool::~process_pool() { munmap(area_, area_size(procs_)); }

void process_pool::run(const std::function<void(int)>& setup, const std::function<void(int, worker_slot&)>& body) {
  std::vector<pid_t> pids;
  for (int rank = 0; rank < procs_; ++rank) {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      worker_slot& slot = area_->slots[rank];
      try {
        setup(rank);
        area_->ready.fetch_add(1);
        while (area_->go.load(std::memory_order_acquire) == 0) sched_yield();
        body(rank, slot);
      } catch (const std::exception& e) {
        std::strncpy(slot.error, e.what(), sizeof slot.error - 1);
        slot.exit_code = 1;
        area_->ready.fetch_add(1);  // never hold the others at the barrier
      }
      _exit(slot.exit_code);
    }
    pids.push_back(pid);
  }
  while (area_->ready.load() < procs_) sched_yield();  // all set up (or failed)
  area_->go.store(1, std::memory_order_release);
  std::string failures;
  for (int rank = 0; rank < procs_; ++rank) {
    int status = 0;
    waitpid(pids[rank], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      failures += "worker " + std::to_string(rank) + ": " +
                  (area_->slots[rank].error[0] ? area_->slots[rank].error : "died") + "; ";
    }
  }
  if (!failures.empty()) throw std::runtime_error(failures);
}

std::vector<const worker_slot*> process_pool::slots() const {
  std::vector<const worker_slot*> out;
  for (int i = 0; i < procs_; ++i) out.push_back(&area_->slots[i]);
  return out;
}

}  // namespace mpstate::bench
