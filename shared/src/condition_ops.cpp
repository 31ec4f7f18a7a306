// SPDX-License-Identifier: MIT
// Conditions: the lock in holders[0], the waiters in arrival order after it
// (sync_ops.hpp, docs/design.md).
#include "mpstate/core/sync_ops.hpp"
#include "sync_state_access.hpp"

namespace mpstate::core {
namespace {

using namespace sync_detail;

std::uint32_t find_waiter(const sync_state& s, const sync_actor& who) {
  for (std::uint32_t i = 1; i < s.holder_count; ++i) {
    if (same_thread(s.holders[i], who)) return i;
  }
  return 0;
}

// Whether `who` was notified; it leaves the waiters when notified, or anyway when
// `anyway` (a timed-out wait). A waiter no longer listed counts as notified.
bool leave_waiters(variable_record& r, const sync_actor& who, bool anyway) {
  require_types(r, {value_type::condition}, "wait");
  locked_record lock(r);
  sync_state s = state_of(r);
  const std::uint32_t i = find_waiter(s, who);
  if (i == 0) return true;
  const bool notified = s.holders[i].count != 0;
  if (!notified && !anyway) return false;
  remove_waiter(s, i);
  commit_state(r, s, lock);
  return notified;
}

}  // namespace

std::uint64_t begin_condition_wait(variable_record& r, const sync_actor& who) {
  require_types(r, {value_type::condition}, "wait");
  locked_record lock(r);
  sync_state s = state_of(r);
  require_condition_owner(r, s, who, "wait");
  if (s.holder_count == max_sync_holders) {
    throw error(errc::too_many_connections,
                "condition " + quoted(r) + " has " + std::to_string(max_sync_holders - 1) + " waiters already");
  }
  const std::uint64_t depth = s.holders[0].count;
  s.holders[0] = {};
  s.holders[s.holder_count++] = {who.process.pid, who.tid, who.process.start_time, 0};
  commit_state(r, s, lock);
  return depth;
}

bool condition_notified(variable_record& r, const sync_actor& who) { return leave_waiters(r, who, false); }

bool cancel_condition_wait(variable_record& r, const sync_actor& who) { return leave_waiters(r, who, true); }

std::uint64_t notify_condition(variable_record& r, const sync_actor& who, std::uint64_t n) {
  require_types(r, {value_type::condition}, "notify");
  locked_record lock(r);
  sync_state s = state_of(r);
  require_condition_owner(r, s, who, "notify");
  std::uint64_t woken = 0;
  for (std::uint32_t i = 1; i < s.holder_count && woken < n; ++i) {
    if (s.holders[i].count == 0) {
      s.holders[i].count = 1;
      ++woken;
    }
  }
  if (woken) commit_state(r, s, lock);
  return woken;
}

}  // namespace mpstate::core
