// SPDX-License-Identifier: MIT
#include "mpstate/core/record_ops.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "mpstate/error.hpp"
#include "plain_lock.hpp"

namespace mpstate::core {

void throw_deleted(const variable_record& r) {
  throw error(errc::not_found, "variable '" + std::string(r.name_view()) + "' was deleted");
}

void throw_moved() { throw record_moved(); }

void throw_orphaned(const variable_record& r) {
  throw error(errc::manager_unavailable, "the manager of variable '" + std::string(r.name_view()) +
                                             "' ended and removed its segment: this process's proxies of it are "
                                             "void (connect again to use a new manager's variables)");
}

void throw_unusable(const variable_record& r) {
  if (r.orphaned()) throw_orphaned(r);
  if (r.deleted()) throw_deleted(r);
  throw_moved();
}

void throw_type_mismatch(const variable_record& r, value_type wanted) {
  throw error(errc::type_mismatch, "variable '" + std::string(r.name_view()) + "' is " +
                                       std::string(to_string(r.type)) + ", not " + std::string(to_string(wanted)));
}

void throw_too_large(const variable_record& r, std::size_t size) {
  throw buffer_too_small("a value of " + std::to_string(size) + " bytes does not fit '" + std::string(r.name_view()) +
                             "' (capacity " + std::to_string(r.capacity) + ")",
                         growth{size, 0});
}

void throw_overflow(const variable_record& r) {
  throw error(errc::out_of_range, "add would overflow '" + std::string(r.name_view()) + "'");
}

void wake_waiters(variable_record& r) noexcept {
  // Not FUTEX_PRIVATE_FLAG: the waiters are in other processes.
  syscall(SYS_futex, r.futex_word(), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

bool locked_record::lock_in_manager() {
  bool died = false;
  if (r_.mutex.try_lock(&died)) return died;
  throw lock_busy(r_.mutex, "variable '" + std::string(r_.name_view()) + "'");  // the message only when busy
}

void repair_after_dead_holder(variable_record& r) noexcept {
  bump_version(r);
  wake_if_waiting(r);
}

void orphan_record(variable_record& r) noexcept {
  r.flags.fetch_or(record_flag_orphaned, std::memory_order_seq_cst);
  bump_version(r);
  wake_if_waiting(r);  // one system call per record would take seconds at 10 M records
}

void bump_version(variable_record& r) noexcept {
  scalar_word seen{r.version.load(std::memory_order_relaxed), r.scalar.load(std::memory_order_relaxed)};
  do {
    // A held lock's version is its holder's epoch: left as it is (nothing acquires a
    // held lock, and its holder's next op reads the flags); a bump would end a live
    // holding for good, say a manager killed between orphaning and unlinking, then
    // adopted (plain_lock.hpp).
    if (r.type == value_type::lock && plain_lock::is_held(seen.bits)) return;
  } while (!compare_exchange_word(r, seen, {seen.version + 1, seen.bits}));
}

std::uint64_t read_buffer(variable_record& r, std::string& out) {
  locked_record lock(r);
  std::string_view bytes = committed_bytes(r);
  out.assign(bytes.data(), bytes.size());
  return r.version.load(std::memory_order_relaxed);
}

bool read_buffer_unlocked(const variable_record& r, std::string& out) {
  return read_committed_unlocked(r, [&](std::string_view bytes) { out.assign(bytes.data(), bytes.size()); });
}

void write_buffer(variable_record& r, std::string_view bytes) {
  locked_record lock(r);
  write_committed_bytes(r, bytes);
  lock.commit();
}

bool compare_exchange_buffer(variable_record& r, std::string& expected, std::string_view desired) {
  locked_record lock(r);
  std::string_view current = committed_bytes(r);
  if (current != expected) {
    expected.assign(current.data(), current.size());
    return false;
  }
  write_committed_bytes(r, desired);
  lock.commit();
  return true;
}

std::uint64_t wait_for_change(variable_record& r, std::uint64_t seen, std::chrono::nanoseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  while (true) {
    std::uint64_t v;
    {
      // Registered, then the version read, under the lock a buffer's writer commits
      // under. A scalar's writer takes no lock: it commits (a full barrier) and then
      // reads `waiters`, so with both sides sequentially consistent it sees us or we
      // see its version. Either way no wake-up is missed.
      robust_lock lock(r.mutex);
      if (lock.owner_died()) repair_after_dead_holder(r);
      if (r.orphaned()) throw_orphaned(r);  // its manager ended: it bumped the version to wake us
      r.waiters.fetch_add(1, std::memory_order_seq_cst);
      v = r.version.load(std::memory_order_seq_cst);
      if (v != seen || clock::now() >= deadline) {
        r.waiters.fetch_sub(1, std::memory_order_relaxed);
        return v;
      }
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - clock::now()).count();
    if (ns < 0) ns = 0;
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    // FUTEX_WAIT re-checks the low 32 bits atomically: a bump since our read returns EAGAIN.
    syscall(SYS_futex, r.futex_word(), FUTEX_WAIT, static_cast<std::uint32_t>(v), &ts, nullptr, 0);
    robust_lock lock(r.mutex);
    if (lock.owner_died()) repair_after_dead_holder(r);
    r.waiters.fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace mpstate::core
