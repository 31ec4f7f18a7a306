// SPDX-License-Identifier: MIT
#include "mpstate/core/sync_ops.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sessions.hpp"
#include "mpstate/error.hpp"
#include "plain_lock.hpp"
#include "sync_state_access.hpp"

namespace mpstate::core {
namespace {

using nlohmann::json;
using namespace sync_detail;

void remove_holder(sync_state& s, std::uint32_t i) {
  s.holders[i] = s.holders[s.holder_count - 1];
  --s.holder_count;
}

// Records a permit (or a barrier place) for the process; beyond the table it is
// untracked. Returns the holding's epoch: a new one for a new holding (0 untracked).
std::uint64_t add_to_holders(variable_record& r, sync_state& s, const sync_actor& who) {
  for (std::uint32_t i = 0; i < s.holder_count; ++i) {
    if (same_process(s.holders[i], who.process)) {
      ++s.holders[i].count;
      return s.holders[i].epoch;
    }
  }
  if (s.holder_count == max_sync_holders) {
    ++s.untracked;
    return 0;
  }
  s.fence = next_epoch(s.fence, r.header());
  s.holders[s.holder_count++] = {who.process.pid, who.tid, who.process.start_time, 1, s.fence};
  return s.fence;
}

// What an owner's op is told when its holding is not the current one.
[[noreturn]] void throw_lost(const variable_record& r, const sync_state& s, std::uint64_t epoch) {
  std::string now;
  const bool held = r.type == value_type::condition ? s.holder_count > 0 && s.holders[0].pid != 0 : s.holder_count > 0;
  if (r.type == value_type::semaphore || r.type == value_type::bounded_semaphore) {
    now = "it holds no permits of it under that epoch now";
  } else if (!held) {
    now = "it is free now";
  } else {
    now = "it is held by process " + std::to_string(s.holders[0].pid) + " with epoch " + std::to_string(s.fence);
  }
  throw error(errc::ownership_lost, std::string(to_string(r.type)) + " " + quoted(r) + ": the holding with epoch " +
                                        std::to_string(epoch) + " has ended (" + now +
                                        "); this owner lost it (a lease that lapsed, or a holder evicted as dead)");
}

bool holds_epoch(const variable_record& r, const sync_state& s, std::uint64_t epoch) {
  switch (r.type) {
    case value_type::lock:
    case value_type::rlock:
      return s.holder_count > 0 && s.fence == epoch;
    case value_type::condition:
      return s.holder_count > 0 && s.holders[0].pid != 0 && s.fence == epoch;
    case value_type::semaphore:
    case value_type::bounded_semaphore:
      for (std::uint32_t i = 0; i < s.holder_count; ++i) {
        if (s.holders[i].epoch == epoch) return true;
      }
      return false;
    default:
      return false;
  }
}

json holders_json(const sync_state& s) {
  json list = json::array();
  for (std::uint32_t i = 0; i < s.holder_count; ++i) {
    json holder = {{"pid", s.holders[i].pid}, {"count", s.holders[i].count}};
    if (s.holders[i].epoch != 0) holder["epoch"] = s.holders[i].epoch;  // an owned semaphore's holding
    list.push_back(std::move(holder));
  }
  return list;
}

std::int64_t count_of(const json& initial, std::int64_t fallback, std::int64_t minimum, const std::string& quoted_name,
                      const char* what) {
  if (initial.is_null()) {
    if (fallback < minimum)
      throw error(errc::invalid_argument, std::string(what) + " of " + quoted_name + " must be given");
    return fallback;
  }
  if (!initial.is_number_integer() || initial.get<std::int64_t>() < minimum) {
    throw error(errc::invalid_argument, std::string(what) + " of " + quoted_name + " must be an integer >= " +
                                            std::to_string(minimum) + ", not " + initial.dump());
  }
  return initial.get<std::int64_t>();
}

// The types a process can hold: locks, semaphore permits, a condition's lock.
void require_holdable(const variable_record& r, const char* op) {
  require_types(r,
                {value_type::lock, value_type::rlock, value_type::semaphore, value_type::bounded_semaphore,
                 value_type::condition},
                op);
}

}  // namespace

sync_state read_sync(variable_record& r) {
  if (!is_sync(r.type)) throw error(errc::type_mismatch, quoted(r) + " is not a synchronisation variable");
  locked_record lock(r);
  return state_of(r);
}

std::int64_t sync_value_unlocked(variable_record& r) {
  if (!is_sync(r.type)) throw error(errc::type_mismatch, quoted(r) + " is not a synchronisation variable");
  if (r.flags.load(std::memory_order_acquire) & record_flags_unusable) [[unlikely]]
    throw_unusable(r);
  std::int64_t value = 0;
  const bool read = read_committed_unlocked(r, [&](std::string_view bytes) {
    if (bytes.size() >= offsetof(sync_state, value) + sizeof value)
      std::memcpy(&value, bytes.data() + offsetof(sync_state, value), sizeof value);
  });
  return read ? value : read_sync(r).value;  // writers kept it moving: under the lock
}

sync_state initial_sync_state(value_type type, std::string_view name, const json& initial) {
  const std::string q = "'" + std::string(name) + "'";
  sync_state s{};
  switch (type) {
    case value_type::semaphore:
    case value_type::bounded_semaphore: {
      // The permits, or {"permits": N, "return_dead_permits": true} to opt in to owned permits.
      const bool shaped = initial.is_object();
      s.value = count_of(shaped ? initial.value("permits", json()) : initial, 1, 0, q, "the permits");
      if (type == value_type::bounded_semaphore) s.limit = s.value;
      if (shaped) {
        const json returns = initial.value("return_dead_permits", json(false));
        if (!returns.is_boolean() || initial.size() != 1u + initial.contains("permits")) {
          throw error(errc::invalid_argument,
                      "semaphore " + q + " takes {\"permits\": N, \"return_dead_permits\": true|false}");
        }
        if (returns.get<bool>()) s.options |= sync_option_return_dead_permits;
      }
      break;
    }
    case value_type::barrier:
      s.limit = count_of(initial, 0, 1, q, "the parties");
      break;
    case value_type::event:
      if (!initial.is_null() && !initial.is_boolean()) {
        throw error(errc::invalid_argument, "event " + q + " starts as true or false");
      }
      s.value = initial.is_boolean() && initial.get<bool>();
      break;
    case value_type::lock:
    case value_type::rlock:
    case value_type::condition:
      if (!initial.is_null()) throw error(errc::invalid_argument, "a lock starts free: give no value");
      if (type == value_type::condition) s.holder_count = 1;  // holders[0]: the lock's owner slot
      break;
    default:
      throw error(errc::type_mismatch, q + " is not a synchronisation variable");
  }
  return s;
}

void init_sync(variable_record& r, const json& initial) {
  const sync_state s = initial_sync_state(r.type, r.name_view(), initial);
  locked_record lock(r);
  commit_state(r, s, lock);
}

acquire_outcome try_acquire(variable_record& r, const sync_actor& who) {
  if (r.type == value_type::lock) return plain_lock::try_acquire(r, who);
  require_holdable(r, "acquire");
  locked_record lock(r);
  sync_state s = state_of(r);
  acquire_outcome out;
  switch (r.type) {
    case value_type::condition:
      if (s.holders[0].pid != 0) {
        if (!same_thread(s.holders[0], who)) return out;
        ++s.holders[0].count;
        out.fence = s.fence;
        break;
      }
      s.fence = next_epoch(s.fence, r.header());
      s.holders[0] = {who.process.pid, who.tid, who.process.start_time, 1, s.fence};
      s.holder_count = std::max<std::uint32_t>(s.holder_count, 1);
      out.previous_owner_died = s.owner_died != 0;
      s.owner_died = 0;
      break;
    case value_type::rlock:
      if (s.holder_count && same_process(s.holders[0], who.process) && s.holders[0].tid == who.tid) {
        ++s.holders[0].count;  // the owning thread again
        out.fence = s.fence;
        break;
      }
      if (s.holder_count) return out;
      s.fence = next_epoch(s.fence, r.header());
      s.holders[0] = {who.process.pid, who.tid, who.process.start_time, 1, s.fence};
      s.holder_count = 1;
      out.previous_owner_died = s.owner_died != 0;
      out.fence = s.fence;
      s.owner_died = 0;
      break;
    default:  // semaphores: a counter, unless permits are owned (sync_option_return_dead_permits)
      if (s.value <= 0) return out;
      --s.value;
      if (s.options & sync_option_return_dead_permits) out.fence = add_to_holders(r, s, who);
  }
  if (r.type == value_type::condition && out.fence == 0) out.fence = s.fence;
  out.acquired = true;
  ++s.acquisitions;
  commit_state(r, s, lock);
  return out;
}

std::uint64_t release(variable_record& r, const sync_actor& who, const std::optional<std::uint64_t>& epoch) {
  if (r.type == value_type::lock) return plain_lock::release(r, epoch);
  require_holdable(r, "release");
  locked_record lock(r);
  sync_state s = state_of(r);
  const bool owned_permits = (s.options & sync_option_return_dead_permits) != 0;
  const bool is_semaphore = r.type == value_type::semaphore || r.type == value_type::bounded_semaphore;
  // An owner's release: its holding must be the current one. (A plain semaphore's
  // permits are nobody's: its epoch is 0 and nothing is checked.)
  if (epoch && *epoch != 0 && (!is_semaphore || owned_permits) && !holds_epoch(r, s, *epoch)) throw_lost(r, s, *epoch);
  std::uint64_t kept = 0;
  switch (r.type) {
    case value_type::rlock:
      if (!s.holder_count || !same_process(s.holders[0], who.process) || s.holders[0].tid != who.tid) {
        throw error(errc::invalid_argument, "rlock " + quoted(r) + " is not held by this thread");
      }
      if ((kept = --s.holders[0].count) == 0) s.holder_count = 0;
      break;
    case value_type::condition:
      require_condition_owner(r, s, who, "release");
      if ((kept = --s.holders[0].count) == 0) s.holders[0] = {};
      break;
    default: {  // semaphores: anyone may release; a bounded one not past its bound
      if (r.type == value_type::bounded_semaphore && s.value + 1 > s.limit) {
        throw error(errc::invalid_argument, "bounded semaphore " + quoted(r) + " released more times than acquired");
      }
      ++s.value;
      if (!owned_permits) break;
      std::uint32_t i = 0;
      if (epoch && *epoch != 0) {  // the owner's own holding (found above)
        while (s.holders[i].epoch != *epoch) ++i;
      } else {
        while (i < s.holder_count && !same_process(s.holders[i], who.process)) ++i;
      }
      if (i == s.holder_count && s.untracked > 0) {
        --s.untracked;
      } else {
        if (i == s.holder_count) i = 0;  // released for another process: take one of theirs
        if (i < s.holder_count) {
          kept = --s.holders[i].count;
          if (kept == 0) remove_holder(s, i);
        }
      }
    }
  }
  commit_state(r, s, lock);
  return kept;
}

void check_epoch_locked(const variable_record& lock, std::uint64_t epoch) {
  if (!is_sync(lock.type) || lock.type == value_type::event || lock.type == value_type::barrier) {
    throw error(errc::type_mismatch, "a fence comes from a lock, rlock, condition or owned semaphore; " + quoted(lock) +
                                         " is " + std::string(to_string(lock.type)));
  }
  if (lock.type == value_type::lock) return plain_lock::check_epoch(lock, epoch);
  const sync_state s = state_of(lock);
  if (!holds_epoch(lock, s, epoch)) throw_lost(lock, s, epoch);
}

void set_event(variable_record& r, bool set) {
  require_types(r, {value_type::event}, "set/clear");
  locked_record lock(r);
  sync_state s = state_of(r);
  if (s.value == static_cast<std::int64_t>(set)) return;
  s.value = set;
  if (set) ++s.generation;  // sets, ever: a waiter that saw it unset is woken by a set+clear too
  commit_state(r, s, lock);
}

namespace {
// Everyone through: the next generation, nobody waiting.
void trip(sync_state& s) {
  ++s.generation;
  s.value = 0;
  s.broken = 0;
  s.holder_count = 0;
  s.untracked = 0;
}

// A party leaves a broken (or resetting) barrier: its place is given up; the last one
// out of a reset makes the barrier usable. Throws broken_barrier.
[[noreturn]] void leave_broken(variable_record& r, sync_state& s, const sync_actor& who, locked_record& lock) {
  for (std::uint32_t i = 0; i < s.holder_count; ++i) {
    if (same_process(s.holders[i], who.process) && --s.holders[i].count == 0) {
      remove_holder(s, i);
      break;
    }
  }
  if (s.value > 0) --s.value;
  if (s.broken == barrier_resetting && s.value == 0) {  // the last one out: usable again
    s.broken = 0;
    s.holder_count = 0;
    s.untracked = 0;
  }
  commit_state(r, s, lock);
  throw error(errc::broken_barrier, "barrier " + quoted(r) + " broke (or was reset) while waiting");
}
}  // namespace

barrier_ticket arrive_at_barrier(variable_record& r, const sync_actor& who, bool hold_trip) {
  require_types(r, {value_type::barrier}, "wait");
  locked_record lock(r);
  sync_state s = state_of(r);
  if (s.broken == barrier_resetting || s.broken == barrier_tripping) return {s.generation, -1};  // again, after it
  if (s.broken) throw error(errc::broken_barrier, "barrier " + quoted(r) + " is broken; reset it first");
  barrier_ticket ticket{s.generation, s.value};
  ++s.acquisitions;
  if (++s.value < s.limit) {
    add_to_holders(r, s, who);
  } else if (hold_trip) {  // the last party runs the action first; its death breaks the barrier
    s.broken = barrier_tripping;
    add_to_holders(r, s, who);
    ticket.trip = true;
  } else {  // the last party: everyone passes
    trip(s);
  }
  commit_state(r, s, lock);
  return ticket;
}

bool barrier_passed(variable_record& r, const barrier_ticket& ticket, const sync_actor& who) {
  require_types(r, {value_type::barrier}, "wait");
  locked_record lock(r);
  sync_state s = state_of(r);
  if (s.generation != ticket.generation) return true;
  if (!s.broken || s.broken == barrier_tripping) return false;
  leave_broken(r, s, who, lock);
}

void trip_barrier(variable_record& r, const barrier_ticket& ticket, const sync_actor& who) {
  require_types(r, {value_type::barrier}, "trip");
  locked_record lock(r);
  sync_state s = state_of(r);
  if (s.generation != ticket.generation) {
    throw error(errc::invalid_argument,
                "barrier " + quoted(r) + ": no trip of generation " + std::to_string(ticket.generation) + " is held");
  }
  if (s.broken != barrier_tripping) leave_broken(r, s, who, lock);  // aborted or reset during the action
  trip(s);
  commit_state(r, s, lock);
}

void abort_barrier(variable_record& r) {
  require_types(r, {value_type::barrier}, "abort");
  locked_record lock(r);
  sync_state s = state_of(r);
  s.broken = 1;
  commit_state(r, s, lock);
}

void reset_barrier(variable_record& r) {
  require_types(r, {value_type::barrier}, "reset");
  locked_record lock(r);
  sync_state s = state_of(r);
  if (s.value > 0) {  // parties wait: they leave with broken_barrier, the last one out makes it usable
    s.broken = barrier_resetting;
  } else {
    s.broken = 0;
    s.value = 0;
    s.holder_count = 0;
    s.untracked = 0;
  }
  commit_state(r, s, lock);
}

bool evict_dead_holders(variable_record& r) {
  if (!is_sync(r.type) || r.type == value_type::event) return false;
  if (r.type == value_type::lock) return plain_lock::evict_dead_holder(r);
  // Liveness reads /proc: do it outside the lock, then act on what is still there.
  const sync_state seen = read_sync(r);
  std::vector<process_identity> dead;
  for (std::uint32_t i = 0; i < seen.holder_count; ++i) {
    process_identity p{seen.holders[i].pid, seen.holders[i].start_time};
    if (p.pid != 0 && !holder_alive(r.header(), p)) dead.push_back(p);  // pid 0: a condition's free lock slot
  }
  if (dead.empty()) return false;
  locked_record lock(r);
  sync_state s = state_of(r);
  bool changed = false;
  for (const process_identity& p : dead) {
    for (std::uint32_t i = 0; i < s.holder_count; ++i) {
      if (!same_process(s.holders[i], p)) continue;
      if (r.type == value_type::condition) {  // the lock's owner, or a waiter
        if (i == 0) {
          s.holders[0] = {};
          s.owner_died = 1;
        } else {
          remove_waiter(s, i--);
        }
        ++s.dead_holders;
        changed = true;
        continue;  // a process may wait on several threads
      }
      if (r.type == value_type::rlock) {
        s.owner_died = 1;
      } else if (r.type == value_type::barrier) {
        s.value -= static_cast<std::int64_t>(s.holders[i].count);
        if (s.broken != barrier_resetting)
          s.broken = 1;
        else if (s.value <= 0)
          s.broken = 0, s.value = 0;  // the last party out of a reset died
      } else {
        s.value += static_cast<std::int64_t>(s.holders[i].count);  // its permits come back
      }
      remove_holder(s, i);
      ++s.dead_holders;
      changed = true;
      break;
    }
  }
  if (changed) commit_state(r, s, lock);
  return changed;
}

json sync_to_json(variable_record& r) {
  if (r.type == value_type::lock) return plain_lock::to_json(r);
  const sync_state s = read_sync(r);
  json j;
  switch (r.type) {
    case value_type::rlock:
      j = {{"locked", s.holder_count > 0},
           {"holder_pid", s.holder_count ? s.holders[0].pid : 0},
           {"depth", s.holder_count ? s.holders[0].count : 0},
           {"holder_tid", s.holder_count ? s.holders[0].tid : 0}};
      j["owner_died"] = s.owner_died != 0;
      j["fence"] = s.fence;
      break;
    case value_type::semaphore:
    case value_type::bounded_semaphore:
      j = {{"value", s.value},
           {"holders", holders_json(s)},
           {"untracked", s.untracked},
           {"return_dead_permits", (s.options & sync_option_return_dead_permits) != 0}};
      if (r.type == value_type::bounded_semaphore) j["bound"] = s.limit;
      break;
    case value_type::event:
      return {{"set", s.value != 0}, {"sets", s.generation}};
    case value_type::condition: {
      json waiters = json::array();
      std::uint64_t notified = 0;
      for (std::uint32_t i = 1; i < s.holder_count; ++i) {
        waiters.push_back(s.holders[i].pid);
        notified += s.holders[i].count;
      }
      const bool locked = s.holder_count > 0 && s.holders[0].pid != 0;
      j = {{"locked", locked},
           {"holder_pid", locked ? s.holders[0].pid : 0},
           {"holder_tid", locked ? s.holders[0].tid : 0},
           {"depth", locked ? s.holders[0].count : 0},
           {"owner_died", s.owner_died != 0},
           {"fence", s.fence},
           {"waiting", waiters.size()},
           {"notified", notified},
           {"waiters", std::move(waiters)}};
      break;
    }
    default:  // barrier
      j = {{"parties", s.limit},
           {"waiting", s.value},
           {"generation", s.generation},
           {"broken", s.broken == 1},
           {"resetting", s.broken == barrier_resetting},
           {"tripping", s.broken == barrier_tripping},
           {"holders", holders_json(s)}};
  }
  j["acquisitions"] = s.acquisitions;
  j["dead_holders"] = s.dead_holders;
  return j;
}

void restore_sync(variable_record& r, const json& saved) {
  if (r.type == value_type::lock) return plain_lock::restore(r, saved);
  sync_state s{};
  switch (r.type) {
    case value_type::semaphore:
    case value_type::bounded_semaphore: {
      s.value = saved.at("value").get<std::int64_t>() + saved.value("untracked", std::int64_t{0});
      for (const json& h : saved.at("holders")) s.value += h.at("count").get<std::int64_t>();
      if (r.type == value_type::bounded_semaphore) s.limit = saved.at("bound").get<std::int64_t>();
      if (saved.value("return_dead_permits", false)) s.options |= sync_option_return_dead_permits;
      break;
    }
    case value_type::event:
      s.value = saved.at("set").get<bool>();
      break;
    case value_type::barrier:
      s.limit = saved.at("parties").get<std::int64_t>();
      s.generation = saved.at("generation").get<std::uint64_t>();
      break;
    case value_type::condition:
      s.holder_count = 1;
      break;  // free, nobody waiting
    default:
      break;  // locks come back free
  }
  s.acquisitions = saved.value("acquisitions", std::uint64_t{0});
  s.dead_holders = saved.value("dead_holders", std::uint64_t{0});
  // Epochs go on from where they were (and from this segment's floor, next_epoch).
  s.fence = saved.value("fence", std::uint64_t{0});
  locked_record lock(r);
  commit_state(r, s, lock);
}

}  // namespace mpstate::core
