// SPDX-License-Identifier: MIT
// The manager's side of the binding ledgers: giving back the bindings of processes
// that died, so the records they kept bound are freed (binding_ledger.hpp).
#include <algorithm>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "mpstate/core/binding_ledger.hpp"
#include "mpstate/core/owned_segment.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

template <class Fn>
void owned_segment::for_each_record(Fn&& fn) const {
  const directory_slot* table = slots();
  for (std::uint32_t i = 0; i < header().directory_capacity; ++i) {
    if (table[i].record_offset > slot_tombstone) fn(*record_at(table[i].record_offset));
  }
  for (variable_record* r : retired_) fn(*r);
}

void owned_segment::for_each_variable(const std::function<void(variable_record&)>& fn) const {
  const directory_slot* table = slots();
  for (std::uint32_t i = 0; i < header().directory_capacity; ++i) {
    if (table[i].record_offset > slot_tombstone) fn(*record_at(table[i].record_offset));
  }
}

namespace {
bool unheld_and_collectable(const variable_record& r) {
  return (r.flags.load(std::memory_order_acquire) & record_flag_collectable) &&
         r.bind_count.load(std::memory_order_acquire) == 0 &&
         r.held_by_predecessor.load(std::memory_order_acquire) == 0;
}
}  // namespace

// Whether a sweep of every record could find anything: a ledger entry claimed since
// the last sweep, or a process that sweep found in some ledger gone since.
bool owned_segment::ledgers_may_hold_the_dead() {
  if (header().ledger_claims.load(std::memory_order_acquire) != claims_at_last_sweep_) return true;
  dead_binder_sweep sweep;
  return !std::all_of(binders_at_last_sweep_.begin(), binders_at_last_sweep_.end(),
                      [&](std::uint64_t key) { return sweep.alive(key); });
}

std::uint64_t owned_segment::reclaim_dead_bindings(bool live_too) {
  dead_binder_sweep sweep;
  std::uint64_t given_back = 0;
  if (live_too && ledgers_may_hold_the_dead()) {
    // Read before the pass: a claim the pass misses raises it after (binding_ledger.cpp).
    claims_at_last_sweep_ = header().ledger_claims.load(std::memory_order_acquire);
    for_each_record([&](variable_record& r) {
      const std::uint64_t n = sweep.reclaim(r);
      given_back += n;
      // its last holders died: nobody will send collect (collect_unbound does)
      if (n != 0 && !r.deleted() && unheld_and_collectable(r)) left_unheld_.emplace_back(r.name_view());
    });
    binders_at_last_sweep_ = sweep.live_keys();  // every key the pass read, dead ones now freed
    ++full_sweeps_;
  } else {
    for (variable_record* r : retired_) given_back += sweep.reclaim(*r);
  }
  bindings_reclaimed_ += given_back;
  return given_back;
}

std::size_t owned_segment::collect_variable(std::string_view name) {
  free_unbound_records();  // a moved predecessor no one holds lets go of its successor
  if (!delete_variable_if(name, unheld_and_collectable)) return 0;
  std::size_t removed = 1;
  for (const std::string& child : scan_names(std::string(name) + "/")) {  // a dict's keys
    try {
      delete_variable(child);
      ++removed;
    } catch (const error& e) {
      if (e.code() != errc::not_found) throw;
    }
  }
  collected_ += removed;
  return removed;
}

std::size_t owned_segment::collect_unbound() {
  const std::vector<std::string> names = std::exchange(left_unheld_, {});
  std::size_t removed = 0;
  for (const std::string& name : names) removed += collect_variable(name);  // checked again, under the lock
  return removed;
}

owned_segment::binding_counts owned_segment::count_bindings() const {
  binding_counts counts;
  std::unordered_set<std::uint64_t> processes;
  for_each_record([&](const variable_record& r) {
    counts.bindings += r.bind_count.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < record_binder_slots; ++i) {
      const std::uint64_t key = r.binder_key[i].load(std::memory_order_relaxed);
      if (key == 0) continue;
      processes.insert(key);
      counts.ledgered += r.binder_count[i].load(std::memory_order_relaxed);
    }
  });
  counts.processes = processes.size();
  return counts;
}

bool owned_segment::bound_by_another_live_process() const {
  dead_binder_sweep sweep;  // its liveness cache: one /proc read per process
  const std::uint64_t self = binder_key(self_identity().pid, self_identity().start_time);
  bool found = false;
  for_each_record([&](const variable_record& r) {
    for (std::size_t i = 0; i < record_binder_slots && !found; ++i) {
      const std::uint64_t key = r.binder_key[i].load(std::memory_order_relaxed);
      if (key != 0 && key != self && r.binder_count[i].load(std::memory_order_relaxed) != 0 && sweep.alive(key)) {
        found = true;
      }
    }
  });
  return found;
}

void owned_segment::end_incarnation() noexcept {
  header().ended.store(1, std::memory_order_seq_cst);
  for_each_record([](variable_record& r) { orphan_record(r); });
}

}  // namespace mpstate::core
