// SPDX-License-Identifier: MIT
// A page of atomics shared by the harness and the processes it forks (an anonymous
// shared mapping made before fork), and the small process helpers the trials use.
#pragma once

#include <sys/mman.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <new>
#include <stdexcept>

namespace mpstate::torture {

struct shared_page {
  std::atomic<std::int64_t> attempting{0};  // the sequence number a writer is writing
  std::atomic<std::int64_t> committed{0};   // the last one its write call returned for
  std::atomic<std::int64_t> in_fn{-1};      // inside update(fn): the value fn was given
  std::atomic<std::int64_t> kill_after{0};  // a dead holder stops inside fn on this write
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> counts[8]{};    // per-client successful operations
  std::atomic<std::int64_t> failures[8]{};  // per-client failed operations
};

// Maps a fresh page; unmapped by the destructor in whichever process runs it.
class page_mapping {
 public:
  page_mapping() {
    void* p = ::mmap(nullptr, sizeof(shared_page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap of the shared page failed");
    page_ = new (p) shared_page;
  }
  ~page_mapping() { ::munmap(page_, sizeof(shared_page)); }
  page_mapping(const page_mapping&) = delete;
  page_mapping& operator=(const page_mapping&) = delete;
  shared_page* operator->() const { return page_; }

 private:
  shared_page* page_;
};

// Forks a child that runs `body` and _exits with its result (1 if it throws).
pid_t fork_child(const std::function<int()>& body);
// SIGKILLs and reaps; returns whether the child was still running when killed.
bool kill_and_reap(pid_t pid);
// Reaps with a deadline; the exit code, or -signal, or -1000 at the deadline (then SIGKILLed).
int reap(pid_t pid, std::chrono::milliseconds timeout);
// Polls `condition` (yielding) until it holds or the deadline passes.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
// Busy-waits about `us` microseconds: a random point in time without a syscall.
void spin_for(std::chrono::microseconds us);

}  // namespace mpstate::torture
