// SPDX-License-Identifier: MIT
// Operations on one variable record: the single implementation behind both the
// client's bound proxies and the manager's socket ops.
//
// Scalar writes take no lock: value and version change together by one 16-byte
// compare-exchange. Buffer writes take the record's robust mutex, commit by one
// atomic store, then bump the version. Either wakes futex waiters. Scalar reads are
// one atomic load (never torn, no lock); buffer reads copy under the lock. Nothing
// here allocates in the segment.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

// An operation met a record whose value the manager moved to a larger buffer: the
// caller follows moved_to and tries again (the client's binding does). Not for users.
class record_moved : public error {
 public:
  record_moved() : error(errc::internal, "the variable moved to a larger buffer") {}
};
// What a growing record needs: a buffer (or a queue's items) of `bytes`, and for an
// unbounded queue `items` slots. Zero: no change.
struct growth {
  std::uint64_t bytes = 0;
  std::uint64_t items = 0;
};
// A value does not fit the record's buffer (value_too_large); growing it by `needed`
// would make it fit.
class buffer_too_small : public error {
 public:
  buffer_too_small(std::string message, growth needed)
      : error(errc::value_too_large, std::move(message)), needed_(needed) {}
  growth needed() const { return needed_; }

 private:
  growth needed_;
};

[[noreturn]] void throw_deleted(const variable_record& r);
[[noreturn]] void throw_moved();
// The record's manager ended (record_flag_orphaned): manager_unavailable.
[[noreturn]] void throw_orphaned(const variable_record& r);
// For a record whose flags are not 0: orphaned, deleted, or moved (in that order).
[[noreturn]] void throw_unusable(const variable_record& r);
// Throws (throw_unusable) when the record is deleted, moved or its manager ended:
// one load of its flags word.
inline void require_usable(const variable_record& r) {
  if (r.flags.load(std::memory_order_acquire) & record_flags_unusable) [[unlikely]]
    throw_unusable(r);
}
[[noreturn]] void throw_type_mismatch(const variable_record& r, value_type wanted);
[[noreturn]] void throw_too_large(const variable_record& r, std::size_t size);
[[noreturn]] void throw_overflow(const variable_record& r);

inline void check_type(const variable_record& r, value_type wanted) {
  if (r.type != wanted) throw_type_mismatch(r, wanted);
}

// Wakes every process in wait_for_change on `r` (a no-op without waiters).
void wake_waiters(variable_record& r) noexcept;
// The same without a system call when nobody waits. Call it after the change is
// committed by a full barrier (a compare-exchange, a seq_cst store): a waiter counts
// itself in `waiters` before it reads the version (wait_for_change, the manager's
// wait pool), so it sees the change or is seen here.
inline void wake_if_waiting(variable_record& r) noexcept {
  if (r.waiters.load(std::memory_order_seq_cst) != 0) wake_waiters(r);
}

// Its manager ended the segment for good (segment_header::ended, set first): every
// op on `r` is refused manager_unavailable from now on. The flag, then a version bump
// (the futex word: a sleeper whose FUTEX_WAIT raced the wake-up still sees it move),
// then the wake-up. No record lock: a client stopped holding one must not hold up
// the end. A committer racing the bump leaves it moved either way and wakes waiters.
void orphan_record(variable_record& r) noexcept;

// After a holder died with the lock: whatever it left is the old or the new value
// (commits are one store), so the repair is a version bump that makes waiters re-read.
void repair_after_dead_holder(variable_record& r) noexcept;

// ---- the (version, scalar) word --------------------------------------------
struct scalar_word {
  std::uint64_t version;
  std::uint64_t bits;
};
// One compare-exchange of the 16 bytes at `pair` (two adjacent words, 16-aligned; a
// full barrier): stores `desired` when they hold `expected`; otherwise `expected`
// gets what they hold.
using word128 = unsigned __int128 __attribute__((may_alias));  // the two atomics, seen as one
inline bool compare_exchange_16(std::atomic<std::uint64_t>* pair, scalar_word& expected, scalar_word desired) noexcept {
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
  bool stored;
  asm volatile("lock cmpxchg16b %1"
               : "=@ccz"(stored), "+m"(*reinterpret_cast<word128*>(pair)), "+a"(expected.version), "+d"(expected.bits)
               : "b"(desired.version), "c"(desired.bits)
               : "memory");
  return stored;
#else  // aarch64 (ldaxp/stlxp or casp), and ThreadSanitizer, which must see the access (its
       // runtime may do it under a lock of its own: atomic among one process's threads,
       // all the TSan suite runs)
  auto pack = [](scalar_word w) { return static_cast<unsigned __int128>(w.bits) << 64 | w.version; };
  unsigned __int128 seen = pack(expected);
  const bool stored = __atomic_compare_exchange_n(reinterpret_cast<word128*>(pair), &seen, pack(desired), false,
                                                  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  expected = {static_cast<std::uint64_t>(seen), static_cast<std::uint64_t>(seen >> 64)};
  return stored;
#endif
}
// The record's (version, scalar) word.
inline bool compare_exchange_word(variable_record& r, scalar_word& expected, scalar_word desired) noexcept {
  return compare_exchange_16(&r.version, expected, desired);
}
// The version + 1, the value kept (a deletion, an ended manager, a repair): a
// lock-free scalar writer that read the word before fails its compare-exchange and
// looks at the record's flags again.
void bump_version(variable_record& r) noexcept;

// Holds a record's lock for a write (or a buffer read); refuses a deleted record.
// commit() marks a write; waiters are woken after the unlock.
class locked_record {
 public:
  explicit locked_record(variable_record& r) : r_(r) {
    if (!ops_may_wait()) [[unlikely]] {
      if (lock_in_manager()) repair_after_dead_holder(r_);
    } else if (r_.mutex.lock()) {
      repair_after_dead_holder(r_);
    }
    check_live();
  }
  locked_record(variable_record& r, std::chrono::system_clock::time_point deadline) : r_(r) {
    if (r_.mutex.lock_until(deadline)) repair_after_dead_holder(r_);
    check_live();
  }
  ~locked_record() {
    r_.mutex.unlock();
    if (wake_) wake_waiters(r_);
  }
  locked_record(const locked_record&) = delete;
  locked_record& operator=(const locked_record&) = delete;

  // Marks a committed write: version + 1, writer, time (the segment's clock cell,
  // 10 ms resolution; see segment_header::clock_ns). Every version change of a
  // buffer happens under the mutex, and waiters register under it too
  // (wait_for_change), so a plain load + store suffices and the read of `waiters`
  // cannot miss one. Scalars commit without it: commit_scalar.
  void commit() {
    r_.version.store(r_.version.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    r_.last_write.store(
        variable_record::pack_last_write(r_.header().clock_ns.load(std::memory_order_relaxed), pid_to_stamp()),
        std::memory_order_relaxed);
    wake_ = r_.waiters.load(std::memory_order_relaxed) != 0;
  }

 private:
  bool lock_in_manager();  // lock_or_busy, naming the variable
  void check_live() {
    if (r_.flags.load(std::memory_order_acquire) & record_flags_unusable) [[unlikely]] {
      r_.mutex.unlock();
      throw_unusable(r_);
    }
  }
  variable_record& r_;
  bool wake_ = false;
};

// ---- scalars -------------------------------------------------------------
template <class T>
struct scalar_codec;
template <>
struct scalar_codec<std::int64_t> {
  static constexpr value_type type = value_type::int64;
  static std::uint64_t to_bits(std::int64_t v) { return static_cast<std::uint64_t>(v); }
  static std::int64_t from_bits(std::uint64_t b) { return static_cast<std::int64_t>(b); }
};
template <>
struct scalar_codec<std::uint64_t> {
  static constexpr value_type type = value_type::uint64;
  static std::uint64_t to_bits(std::uint64_t v) { return v; }
  static std::uint64_t from_bits(std::uint64_t b) { return b; }
};
template <>
struct scalar_codec<double> {
  static constexpr value_type type = value_type::float64;
  static std::uint64_t to_bits(double v) { return std::bit_cast<std::uint64_t>(v); }
  static double from_bits(std::uint64_t b) { return std::bit_cast<double>(b); }
};
template <>
struct scalar_codec<bool> {
  static constexpr value_type type = value_type::boolean;
  static std::uint64_t to_bits(bool v) { return v ? 1 : 0; }
  static bool from_bits(std::uint64_t b) { return b != 0; }
};

// A scalar's element bytes (a queue item's, and what a proxy hands the wire): its
// 8 bytes of bits; and back (a shorter string reads as zeros past its end).
inline std::string scalar_bytes(std::uint64_t bits) {
  return std::string(reinterpret_cast<const char*>(&bits), sizeof bits);
}
inline std::uint64_t scalar_bits(std::string_view bytes) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, bytes.data(), bytes.size() < sizeof bits ? bytes.size() : sizeof bits);
  return bits;
}

// One load, and one of the flags (deleted, or its manager ended: the same word, so
// telling an orphaned proxy costs a read nothing).
template <class T>
T load_scalar(const variable_record& r) {
  std::uint64_t bits = r.scalar.load(std::memory_order_acquire);
  require_usable(r);
  return scalar_codec<T>::from_bits(bits);
}

// Every scalar write: next(current) gives the value to commit, or nullopt to commit
// nothing (returns false). Lock-free: a compare-exchange of (version, bits) that a
// concurrent write makes fail, and then next runs again on what that write left, so
// next may run more than once. A writer killed anywhere has committed or not, and
// holds nothing anyone must recover. A record deleted or orphaned before the commit
// point refuses the write (its flag is set before its version moves).
template <class T, class Next>
bool commit_scalar(variable_record& r, Next&& next) {
  __builtin_prefetch(&r.version, 1);  // the line for writing: the loads below and the compare-exchange miss once
  scalar_word seen{r.version.load(std::memory_order_acquire), r.scalar.load(std::memory_order_acquire)};
  while (true) {
    require_usable(r);
    const std::optional<T> value = next(scalar_codec<T>::from_bits(seen.bits));
    if (!value) return false;
    if (compare_exchange_word(r, seen, {seen.version + 1, scalar_codec<T>::to_bits(*value)})) break;
  }
  r.last_write.store(
      variable_record::pack_last_write(r.header().clock_ns.load(std::memory_order_relaxed), pid_to_stamp()),
      std::memory_order_relaxed);
  wake_if_waiting(r);  // after the compare-exchange, a full barrier
  return true;
}

template <class T>
void store_scalar(variable_record& r, T value) {
  commit_scalar<T>(r, [&](T) { return std::optional<T>(value); });
}

// Adds `delta`; integers refuse to overflow (error out_of_range). Returns the new value.
template <class T>
T add_scalar(variable_record& r, T delta) {
  static_assert(!std::is_same_v<T, bool>);
  T next;
  commit_scalar<T>(r, [&](T current) {
    if constexpr (std::is_integral_v<T>) {
      if (__builtin_add_overflow(current, delta, &next)) throw_overflow(r);
    } else {
      next = current + delta;
    }
    return std::optional<T>(next);
  });
  return next;
}

// Stores `desired` when the value equals `expected`; otherwise loads the value into
// `expected`. Returns whether it stored.
template <class T>
bool compare_exchange_scalar(variable_record& r, T& expected, T desired) {
  return commit_scalar<T>(r, [&](T current) -> std::optional<T> {
    if (current == expected) return desired;
    expected = current;
    return std::nullopt;
  });
}

// Read-modify-write: stores fn(current), a compare-exchange loop (fn runs again when
// another write came first). If fn throws, nothing changes.
template <class T, class Fn>
T update_scalar(variable_record& r, Fn&& fn) {
  T next;
  commit_scalar<T>(r, [&](T current) {
    next = fn(current);
    return std::optional<T>(next);
  });
  return next;
}

// "<type> 'name'" (e.g. "queue 'jobs'"), for error messages.
inline std::string typed_name(const variable_record& r) {
  return std::string(to_string(r.type)) + " '" + std::string(r.name_view()) + "'";
}

// ---- buffers (string, bytes, json text, loop snapshot) --------------------
// The committed bytes; the caller holds the lock.
inline std::string_view committed_bytes(const variable_record& r) {
  std::uint32_t slot = r.active_slot.load(std::memory_order_acquire);
  return {r.slot_data(slot), static_cast<std::size_t>(r.slot_length[slot])};
}
// The committed bytes read without the lock, for a reader that must not wait (the
// dump, while a stopped process holds the record): copied, then kept only if the
// version did not move meanwhile (a writer commits by flipping active_slot and then
// raising the version, so a copy under an unchanged version is one whole value).
// False when writers kept it moving.
bool read_buffer_unlocked(const variable_record& r, std::string& out);
// The rule behind it, for any part of the committed bytes: copy(bytes) runs on the
// active slot and is kept when the version did not move meanwhile (it may run more
// than once, and must copy, not keep, what it sees). False when writers kept it moving.
template <class Copy>
bool read_committed_unlocked(const variable_record& r, Copy&& copy) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::uint64_t before = r.version.load(std::memory_order_acquire);
    const std::uint32_t slot = r.active_slot.load(std::memory_order_acquire) & 1;
    const std::uint64_t length = std::min<std::uint64_t>(r.slot_length[slot], r.capacity);
    copy(std::string_view(r.slot_data(slot), static_cast<std::size_t>(length)));
    std::atomic_thread_fence(std::memory_order_acquire);
    if (r.version.load(std::memory_order_relaxed) == before) return true;
  }
  return false;
}
// Writes `bytes` to the inactive slot and commits it by flipping active_slot; the
// caller holds the lock and commits the version after. Throws value_too_large.
inline void write_committed_bytes(variable_record& r, std::string_view bytes) {
  if (bytes.size() > r.capacity) throw_too_large(r, bytes.size());
  std::uint32_t next = 1 - r.active_slot.load(std::memory_order_relaxed);
  if (!bytes.empty()) std::memcpy(r.slot_data(next), bytes.data(), bytes.size());
  r.slot_length[next] = bytes.size();
  r.active_slot.store(next, std::memory_order_release);
}

// Copies the value into `out` (reusing its storage); returns the version read.
std::uint64_t read_buffer(variable_record& r, std::string& out);
void write_buffer(variable_record& r, std::string_view bytes);
// Stores `desired` when the bytes equal `expected`; otherwise `expected` gets them.
bool compare_exchange_buffer(variable_record& r, std::string& expected, std::string_view desired);

// Read-modify-write of the raw bytes: stores fn(std::string current) -> std::string.
template <class Fn>
std::string update_buffer(variable_record& r, Fn&& fn) {
  locked_record lock(r);
  std::string next = fn(std::string(committed_bytes(r)));
  write_committed_bytes(r, next);
  lock.commit();
  return next;
}

// ---- change notification -------------------------------------------------
// Sleeps in the kernel (futex, no polling) until the version differs from `seen` or
// the timeout passes. Returns the version it last saw (== seen on timeout).
std::uint64_t wait_for_change(variable_record& r, std::uint64_t seen, std::chrono::nanoseconds timeout);

}  // namespace mpstate::core
