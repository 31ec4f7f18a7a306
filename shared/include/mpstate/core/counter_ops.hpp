// SPDX-License-Identifier: MIT
// A counter: an int64 total kept as shards, one cache line each, in the record's one
// buffer slot. add() is one atomic add to the shard of the CPU the caller runs on, so
// processes adding at once on different CPUs write different lines: no lock, and no
// line bouncing between them. get() sums the shards.
//
// Crash-safe by construction: an add is one atomic instruction, so a process killed
// at any point has added its delta or has not; there is no lock to recover.
// What it gives up, against an int64 Value:
//   - a total past the int64 range wraps (two's complement) instead of raising;
//   - adds move neither the version nor the last writer (that word would be the one
//     line every adder bounces), so a counter cannot be waited on;
//   - a get() while others add is not a snapshot: each add is in it or not, and is
//     counted exactly once in every get() that starts after the add returned.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/record_ops.hpp"

namespace mpstate::core {

constexpr std::uint32_t counter_max_shards = 64;

// The shards a new counter gets here: the CPUs this machine has, rounded up to a
// power of two, at most counter_max_shards.
std::uint32_t counter_shards_here() noexcept;
// The record capacity (bytes of its one slot) for that many shards.
constexpr std::uint64_t counter_capacity(std::uint32_t shards) { return std::uint64_t{shards} * 64; }

// Zeroes the shards (capacity / 64 of them, a power of two) and puts `initial` in
// the first. The record is the manager's, not yet published.
void init_counter(variable_record& r, std::int64_t initial);

namespace counter_detail {
inline std::uint32_t shards_of(const variable_record& r) { return static_cast<std::uint32_t>(r.capacity / 64); }
inline std::atomic<std::uint64_t>& shard(variable_record& r, std::uint32_t i) {
  return *reinterpret_cast<std::atomic<std::uint64_t>*>(r.slot_data(0) + std::uint64_t{i} * 64);
}
inline const std::atomic<std::uint64_t>& shard(const variable_record& r, std::uint32_t i) {
  return *reinterpret_cast<const std::atomic<std::uint64_t>*>(r.slot_data(0) + std::uint64_t{i} * 64);
}
}  // namespace counter_detail

// Adds `delta` to this CPU's shard. Refused (as every op) on a deleted record, or
// one whose manager ended: the flags are read after the add (as load_scalar reads
// them after its load), so an add racing the delete or the manager's end is told,
// never taken silently into a record nobody reads again.
inline void counter_add(variable_record& r, std::int64_t delta) {
  const int cpu = ::sched_getcpu();
  const std::uint32_t i = static_cast<std::uint32_t>(cpu < 0 ? 0 : cpu) & (counter_detail::shards_of(r) - 1);
  counter_detail::shard(r, i).fetch_add(static_cast<std::uint64_t>(delta), std::memory_order_seq_cst);
  if (r.flags.load(std::memory_order_seq_cst) & record_flags_unusable) [[unlikely]]
    throw_unusable(r);
}

// The total: the shards' sum (see above for what it promises while others add).
inline std::int64_t counter_value(const variable_record& r) {
  std::uint64_t sum = 0;
  for (std::uint32_t i = 0, n = counter_detail::shards_of(r); i < n; ++i)
    sum += counter_detail::shard(r, i).load(std::memory_order_relaxed);
  if (r.flags.load(std::memory_order_acquire) & record_flags_unusable) [[unlikely]]
    throw_unusable(r);
  return static_cast<std::int64_t>(sum);
}

}  // namespace mpstate::core
