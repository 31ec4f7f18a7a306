// SPDX-License-Identifier: MIT
#include "mpstate/core/binding_ledger.hpp"

#include <pthread.h>
#include <unistd.h>

#include <mutex>

#include "mpstate/core/process_identity.hpp"

namespace mpstate::core {
namespace {

// Serialises this process's ledger changes: two of its threads never claim or free
// an entry at once. Registered with pthread_atfork when the library loads, so it is
// unlocked in a fork child before any later-registered handler (the client's,
// which notes the child's bindings) runs.
std::mutex ledger_mutex;
[[maybe_unused]] const bool ledger_fork_safe = [] {
  pthread_atfork([] { ledger_mutex.lock(); }, [] { ledger_mutex.unlock(); }, [] { ledger_mutex.unlock(); });
  return true;
}();

// This process's key, recomputed after a fork (getpid differs). Under ledger_mutex.
std::uint64_t my_key() {
  static pid_t cached_for = 0;
  static std::uint64_t key = 0;
  const pid_t pid = ::getpid();
  if (pid != cached_for) {
    key = binder_key(pid, process_start_time(pid));
    cached_for = pid;
  }
  return key;
}

// Notes one more binding of this process in `r`'s ledger; unledgered when every
// entry is taken by other processes. Under ledger_mutex.
void note(variable_record& r) {
  const std::uint64_t key = my_key();
  for (std::size_t i = 0; i < record_binder_slots; ++i) {
    if (r.binder_key[i].load(std::memory_order_acquire) == key) {
      r.binder_count[i].fetch_add(1, std::memory_order_release);
      return;
    }
  }
  for (std::size_t i = 0; i < record_binder_slots; ++i) {
    std::uint64_t free_entry = 0;
    if (r.binder_key[i].compare_exchange_strong(free_entry, key, std::memory_order_acq_rel)) {
      r.binder_count[i].fetch_add(1, std::memory_order_release);
      // After the claim: a manager sweep that passed this record before it counts it
      // changed, and looks at every record again (a death between the two leaks only).
      // Not for the manager's own bindings (its waits, scrapes, dumps): it lives while
      // it sweeps, and a manager that adopts the segment looks at every record first.
      segment_header& h = r.header();
      if (static_cast<std::int32_t>(key & 0x3fffff) != h.manager_pid.load(std::memory_order_relaxed)) {
        h.ledger_claims.fetch_add(1, std::memory_order_release);
      }
      return;
    }
  }
}

}  // namespace

std::uint64_t binder_key(std::int32_t pid, std::uint64_t start_time) noexcept {
  return (start_time << 22) | (static_cast<std::uint64_t>(pid) & 0x3fffff);
}

void bind_record(variable_record& r) {
  r.bind_count.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(ledger_mutex);
  note(r);
}

std::uint32_t unbind_record(variable_record& r) noexcept {
  {
    std::lock_guard lock(ledger_mutex);
    const std::uint64_t key = my_key();
    for (std::size_t i = 0; i < record_binder_slots; ++i) {
      if (r.binder_key[i].load(std::memory_order_acquire) != key) continue;
      if (r.binder_count[i].fetch_sub(1, std::memory_order_acq_rel) == 1) {
        r.binder_key[i].store(0, std::memory_order_release);  // ours alone: free it for others
      }
      break;
    }
  }
  return r.bind_count.fetch_sub(1, std::memory_order_acq_rel) - 1;
}

void raise_binding_for_child(variable_record& r) noexcept { r.bind_count.fetch_add(1, std::memory_order_relaxed); }

void note_binding_in_child(variable_record& r) noexcept {
  std::lock_guard lock(ledger_mutex);
  note(r);
}

bool dead_binder_sweep::alive(std::uint64_t key) {
  auto [it, added] = alive_.try_emplace(key, true);
  if (added) {
    it->second = is_alive({static_cast<pid_t>(key & 0x3fffff), key >> 22});
  }
  return it->second;
}

std::vector<std::uint64_t> dead_binder_sweep::live_keys() const {
  std::vector<std::uint64_t> keys;
  for (const auto& [key, alive] : alive_) {
    if (alive) keys.push_back(key);
  }
  return keys;
}

std::uint64_t dead_binder_sweep::reclaim(variable_record& r) {
  std::uint64_t given_back = 0;
  for (std::size_t i = 0; i < record_binder_slots; ++i) {
    const std::uint64_t key = r.binder_key[i].load(std::memory_order_acquire);
    if (key == 0 || alive(key)) continue;
    // The process is gone: nobody else changes this entry until it is freed.
    const std::uint32_t count = r.binder_count[i].exchange(0, std::memory_order_acq_rel);
    r.bind_count.fetch_sub(count, std::memory_order_release);
    r.binder_key[i].store(0, std::memory_order_release);
    given_back += count;
  }
  return given_back;
}

}  // namespace mpstate::core
