// SPDX-License-Identifier: MIT
#include "plain_lock.hpp"

#include <algorithm>
#include <string>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sessions.hpp"
#include "mpstate/error.hpp"
#include "sync_state_access.hpp"

namespace mpstate::core::plain_lock {
namespace {

using nlohmann::json;
using sync_detail::quoted;

// A holder in 63 bits: pid (22 bits; a session's slot + 1) | start time << 22 (41
// bits: 697 years of clock ticks; a session's counter) | 1 << 63 for a session.
constexpr std::uint64_t pid_bits = 0x3fffff;
constexpr std::uint64_t start_time_limit = std::uint64_t{1} << 41;
constexpr std::uint64_t session_bit = std::uint64_t{1} << 63;

std::uint64_t holder_token(const process_identity& p) {
  if (p.start_time >= start_time_limit) {
    throw error(errc::internal, "a start time of " + std::to_string(p.start_time) + " does not fit a lock's word");
  }
  const bool session = is_session(p);
  const auto pid = static_cast<std::uint64_t>(session ? -static_cast<std::int64_t>(p.pid) : p.pid);
  return (session ? session_bit : 0) | (p.start_time << 22) | (pid & pid_bits);
}

process_identity holder_of(std::uint64_t token) {
  const auto pid = static_cast<pid_t>(token & pid_bits);
  return {(token & session_bit) ? -pid : pid, (token & ~session_bit) >> 22};
}

// The word as one state: every change moves the version, so the same version
// before and after the scalar's load brackets no change.
scalar_word read_word(const variable_record& r) {
  while (true) {
    const std::uint64_t version = r.version.load(std::memory_order_acquire);
    const std::uint64_t bits = r.scalar.load(std::memory_order_acquire);
    if (r.version.load(std::memory_order_acquire) == version) return {version, bits};
  }
}

[[noreturn]] void throw_lost(const variable_record& r, scalar_word now, std::uint64_t epoch) {
  const std::string state = is_held(now.bits) ? "it is held by process " + std::to_string(holder_of(now.bits).pid) +
                                                    " with epoch " + std::to_string(now.version)
                                              : std::string("it is free now");
  throw error(errc::ownership_lost, "lock " + quoted(r) + ": the holding with epoch " + std::to_string(epoch) +
                                        " has ended (" + state +
                                        "); this owner lost it (a lease that lapsed, or a holder evicted as dead)");
}

// After a committed change: the writer and time (a held lock's is its acquisition,
// for the metrics' time held), and the waiters woken. The compare-exchange before
// is a full barrier, so a waiter that registered before reading the version is seen.
void after_change(variable_record& r) {
  r.last_write.store(
      variable_record::pack_last_write(r.header().clock_ns.load(std::memory_order_relaxed), pid_to_stamp()),
      std::memory_order_relaxed);
  wake_if_waiting(r);
}

}  // namespace

acquire_outcome try_acquire(variable_record& r, const sync_actor& who) {
  const std::uint64_t token = holder_token(who.process);
  scalar_word seen{r.version.load(std::memory_order_acquire), r.scalar.load(std::memory_order_acquire)};
  while (true) {
    require_usable(r);
    if (is_held(seen.bits)) return {};  // held when the scalar was read
    const std::uint64_t epoch = next_epoch(seen.version, r.header());
    if (compare_exchange_word(r, seen, {epoch, token})) {
      r.lock_acquisitions.store(r.lock_acquisitions.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      after_change(r);
      return {true, seen.bits == freed_dead, epoch};
    }
  }
}

std::uint64_t release(variable_record& r, const std::optional<std::uint64_t>& epoch) {
  const bool as_owner = epoch && *epoch != 0;
  std::optional<locked_record> held;  // a release for another process: not inside a fenced write
  if (!as_owner) held.emplace(r);
  scalar_word seen{r.version.load(std::memory_order_acquire), r.scalar.load(std::memory_order_acquire)};
  while (true) {
    require_usable(r);
    if (as_owner && (!is_held(seen.bits) || seen.version != *epoch)) {
      if (compare_exchange_word(r, seen, seen)) throw_lost(r, seen, *epoch);  // seen is one state
      continue;
    }
    if (!is_held(seen.bits)) {
      if (!compare_exchange_word(r, seen, seen)) continue;
      throw error(errc::invalid_argument, "release of lock " + quoted(r) + ", which is not held");
    }
    if (compare_exchange_word(r, seen, {seen.version + 1, 0})) break;
  }
  held.reset();  // the mutex first: waiters woken after it
  after_change(r);
  return 0;
}

void check_epoch(const variable_record& r, std::uint64_t epoch) {
  const scalar_word now = read_word(r);
  if (!is_held(now.bits) || now.version != epoch) throw_lost(r, now, epoch);
}

bool evict_dead_holder(variable_record& r) {
  const scalar_word seen = read_word(r);  // liveness reads /proc: outside the mutex
  if (!is_held(seen.bits) || holder_alive(r.header(), holder_of(seen.bits))) return false;
  locked_record held(r);  // no fenced write's check and store around the eviction
  scalar_word expected = seen;
  if (!compare_exchange_word(r, expected, {seen.version + 1, freed_dead})) return false;  // released meanwhile
  r.lock_dead_holders.store(r.lock_dead_holders.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  after_change(r);
  return true;
}

json to_json(const variable_record& r) {
  require_usable(r);
  const scalar_word now = read_word(r);
  const bool held = is_held(now.bits);
  const std::uint64_t acquisitions = r.lock_acquisitions.load(std::memory_order_relaxed);
  return {{"locked", held},
          {"holder_pid", held ? holder_of(now.bits).pid : 0},
          {"depth", held ? 1 : 0},
          {"owner_died", now.bits == freed_dead},
          // the current holding's, or the last one's (a release or an eviction moved it on by one)
          {"fence", held ? now.version : (acquisitions ? now.version - 1 : 0)},
          {"acquisitions", acquisitions},
          {"dead_holders", r.lock_dead_holders.load(std::memory_order_relaxed)}};
}

void restore(variable_record& r, const json& saved) {
  r.lock_acquisitions.store(saved.value("acquisitions", std::uint64_t{0}), std::memory_order_relaxed);
  r.lock_dead_holders.store(saved.value("dead_holders", std::uint64_t{0}), std::memory_order_relaxed);
  // Epochs go on from where they were (and from this segment's floor, next_epoch).
  const std::uint64_t fence = saved.value("fence", std::uint64_t{0});
  scalar_word seen = read_word(r);
  while (!compare_exchange_word(r, seen, {std::max(seen.version, fence + 1), 0})) {
  }
}

}  // namespace mpstate::core::plain_lock
