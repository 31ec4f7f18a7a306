// SPDX-License-Identifier: MIT
// The segment's binary layout. Every process that maps a segment reads it through
// these structs; all links inside the segment are offsets from its base.
//
//   [segment_header][directory: 2 tables of directory_slot x capacity][heap: blocks]
//
// The heap is a run of blocks, each a heap_block header followed by one record
// (block_heap.hpp); the directory can be rebuilt from the heap alone, which is what
// makes every structural change all-or-nothing across a crash of the manager.
//
// Only the manager writes the header's structural fields, the directory and the heap
// allocator. Clients change values inside records, under each record's robust mutex.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mpstate/core/robust_mutex.hpp"
#include "mpstate/loop_phase.hpp"

namespace mpstate::core {

static_assert(std::endian::native == std::endian::little, "the futex word is the low half of the 64-bit version");

constexpr std::uint64_t segment_magic = 0x3174617473706d2eULL;  // ".mpstat1"
constexpr std::uint32_t layout_version = 10;  // 5: incarnations, ownership epochs (fences); 6: collectable
                                              // records; 7: (version, scalar) one 16-byte word; 8: a lock
                                              // in that word; 9: the name after the slots, its own length;
                                              // 10: the header counts ledger claims

// Every type: its enumerator, its name on the wire and in the dump, and its code,
// which the segment stores (so a code is never reused or changed: append only).
// This list makes the enum and the names (layout.cpp); a type's behaviour is its ops
// file (the comments) and its case in record_init.cpp.
#define MPSTATE_TYPES(X)                                          \
  X(int64, "int64", 1)                                            \
  X(uint64, "uint64", 2)                                          \
  X(float64, "double", 3)                                         \
  X(boolean, "bool", 4) /* scalars: record_ops.hpp */             \
  X(string, "string", 5)                                          \
  X(bytes, "bytes", 6)                                            \
  X(json, "json", 7) /* buffers: record_ops.hpp */                \
  X(loop, "loop", 8) /* loop_ops.hpp */                           \
  X(lock, "lock", 9)                                              \
  X(rlock, "rlock", 10)                                           \
  X(semaphore, "semaphore", 11)                                   \
  X(bounded_semaphore, "bounded_semaphore", 12)                   \
  X(event, "event", 13)                                           \
  X(barrier, "barrier", 14)                                       \
  X(condition, "condition", 15) /* sync_ops.hpp, condition_ops */ \
  X(queue, "queue", 16)         /* queue_ops.hpp */               \
  X(array, "array", 17)                                           \
  X(list, "list", 18)       /* array_ops.hpp */                   \
  X(counter, "counter", 19) /* counter_ops.hpp */

#define MPSTATE_TYPE_ENUMERATOR(name, text, code) name = code,
enum class value_type : std::uint32_t { MPSTATE_TYPES(MPSTATE_TYPE_ENUMERATOR) };
#undef MPSTATE_TYPE_ENUMERATOR
std::string_view to_string(value_type t) noexcept;
// Throws error(invalid_type) for an unknown name ("double" names float64).
value_type value_type_from_string(std::string_view name);
constexpr bool is_scalar(value_type t) {
  return t == value_type::int64 || t == value_type::uint64 || t == value_type::float64 || t == value_type::boolean;
}

constexpr bool is_sync(value_type t) { return t >= value_type::lock && t <= value_type::condition; }
// Types whose value is a fixed struct in the buffer slots, changed only by their ops;
// the manager watches them for dead owners and holders.
constexpr bool is_structured(value_type t) { return t == value_type::loop || is_sync(t); }
// Types changed only through their own ops (no set, cas or add).
constexpr bool has_own_ops(value_type t) {
  return is_structured(t) || t == value_type::queue || t == value_type::counter;
}
// Whether a `wait` on the type can ever return: every type's writes move the version
// but a counter's adds (counter_ops.hpp), which stay off the shared version word.
constexpr bool has_versions(value_type t) { return t != value_type::counter; }
// Buffer slots a record of the type has: a queue is a ring in one slot, committed
// item by item (queue_ops.hpp), a counter its shards (counter_ops.hpp); the others
// double-buffer.
constexpr std::uint32_t slots_of(value_type t) { return t == value_type::queue || t == value_type::counter ? 1 : 2; }

// The public LoopPhase (mpstate/loop_phase.hpp) is what the segment stores.
using loop_phase = LoopPhase;
using mpstate::loop_phase_from_string;
using mpstate::to_string;
static_assert(sizeof(loop_phase) == 4);

struct segment_header {
  std::uint64_t magic;
  std::uint32_t layout_version;
  std::uint32_t header_size;  // sizeof(segment_header), a second layout check
  std::uint64_t segment_size;
  std::atomic<std::int32_t> manager_pid;
  std::atomic<std::uint64_t> manager_start_time;
  std::int64_t created_ns;
  robust_mutex directory_mutex;                 // guards the directory: held by the manager to
                                                // change it, by clients to look names up
  std::uint64_t directory_offset;               // table 0; table 1 follows it
  std::uint32_t directory_capacity;             // slots of one table, a power of two
  std::uint32_t directory_used;                 // live entries (under directory_mutex)
  std::uint32_t directory_tombstones;           // deleted slots not yet reused
  std::atomic<std::uint32_t> directory_active;  // the table in use (0 or 1): a rehash
                                                // fills the other one and switches by one store
  std::uint64_t heap_offset;
  std::uint64_t heap_size;
  // A seqlock over the directory: odd while the manager changes it (under
  // directory_mutex), even otherwise; readers that scan without the lock retry when
  // it moved, and fall back to the lock when it stays odd (a manager that died).
  std::atomic<std::uint64_t> directory_generation;
  // Random, set when the segment is made (a manager that adopts it keeps it): which
  // life of the name this is. A manager that ends for good (unlinks the segment) sets
  // `ended` and marks every record record_flag_orphaned first, so a process still
  // mapping it is told (manager_unavailable) at its next op instead of writing into
  // a segment nobody else can see (docs/design.md, "Ownership").
  std::uint64_t incarnation;
  std::atomic<std::uint32_t> ended;
  // The remote sessions' table (sessions.hpp): session_capacity words at
  // sessions_offset, between the directory and the heap.
  std::uint64_t sessions_offset;
  std::uint32_t session_capacity;
  // +1 each time a process claims a binding-ledger entry (binding_ledger.cpp, after
  // the claim): while it stands still and every process the manager last found in a
  // ledger lives, no ledger holds a dead process, and the manager skips its sweep of
  // every record (owned_segment::reclaim_dead_bindings).
  std::atomic<std::uint64_t> ledger_claims;
  // Wall-clock ns, ticked by the manager every 10 ms; writes stamp records with it
  // (a clock read per write would cost more than the lock). It stands still while no
  // manager runs. Alone on its cache line: written 100 times a second, read by all.
  alignas(64) std::atomic<std::int64_t> clock_ns;
};

// A directory slot: empty (record_offset 0), a tombstone (1), or a live entry.
struct directory_slot {
  std::uint64_t name_hash;
  std::uint64_t record_offset;
};
constexpr std::uint64_t slot_empty = 0;
constexpr std::uint64_t slot_tombstone = 1;

// The value of a loop variable, stored whole in a record's buffer slot.
struct loop_snapshot {
  loop_phase phase;
  std::int32_t owner_pid;
  std::uint64_t owner_start_time;
  std::uint64_t iterations;
  std::int64_t started_ns;    // when the owner marked it starting
  std::int64_t heartbeat_ns;  // the owner's last heartbeat (or state change)
  std::int64_t changed_ns;    // last state change
  std::uint64_t epoch;        // the ownership's epoch: new at each `starting` (next_epoch)
  char reason[200];           // why it failed (NUL-terminated)
};

// A process holding a lock, permits of a semaphore, or a place at a barrier.
struct sync_holder {
  std::int32_t pid;
  std::int32_t tid;          // rlock: the owning thread; 0 otherwise
  std::uint64_t start_time;  // with pid: the exact process (pids are reused)
  std::uint64_t count;       // rlock depth, permits held, 1 for a barrier party
  std::uint64_t epoch;       // an owned semaphore's permits: this holding's epoch
};
constexpr std::size_t max_sync_holders = 64;  // 2 KB a state; an op copies only the used ones

// The value of a lock, rlock, semaphore, bounded_semaphore, event or barrier,
// stored whole in a record's buffer slot (committed like any buffer: never torn).
struct sync_state {
  std::int64_t value;          // semaphore: free permits; event: 0/1; barrier: parties arrived
  std::int64_t limit;          // bounded_semaphore: the bound; barrier: the parties
  std::uint64_t generation;    // barrier: +1 each time it trips
  std::uint32_t broken;        // barrier: aborted, timed out, or a waiting party died
  std::uint32_t holder_count;  // entries used in holders
  std::uint64_t untracked;     // semaphore: permits held beyond the holder table
  std::uint32_t owner_died;    // lock/rlock: a dead holder was evicted; told to the next acquirer
  std::uint32_t options;       // sync_option_* bits, fixed at creation
  std::uint64_t acquisitions;  // successful acquires / arrivals, ever
  std::uint64_t dead_holders;  // holders found dead and recovered, ever
  // lock, rlock, condition: the epoch of the current (or last) holding, new at each
  // fresh acquisition (next_epoch); an op made as the owner carries it and a stale
  // one is refused (ownership_lost). Owned semaphores number their holdings with it.
  std::uint64_t fence;
  sync_holder holders[max_sync_holders];
};

// The next epoch of an ownership whose last was `last`: one more, and never below the
// segment's creation time in ns, so a new segment under the same name (a new
// incarnation) never hands out an epoch an older one did (an acquisition costs well
// over a nanosecond).
inline std::uint64_t next_epoch(std::uint64_t last, const segment_header& h) {
  const auto floor = static_cast<std::uint64_t>(h.created_ns);
  return last + 1 > floor ? last + 1 : floor;
}

// A semaphore that records which process took each permit and gives back the
// permits of a process that ends holding them. Opt-in: Python's semaphores are
// counters, not owned, and a producer/consumer count must not gain phantom permits.
constexpr std::uint32_t sync_option_return_dead_permits = 1;

// Processes a record's binding ledger names (binding_ledger.hpp); more bind unledgered.
constexpr std::size_t record_binder_slots = 8;

constexpr std::uint32_t record_flag_deleted = 1;
// The manager moved the value to a larger record (moved_to): follow it and retry.
constexpr std::uint32_t record_flag_moved = 2;
// Its manager ended and unlinked the segment (segment_header::ended): every op on
// the record is refused manager_unavailable.
constexpr std::uint32_t record_flag_orphaned = 4;
// The flags that make every op on the record refused (the hot paths test them at once).
constexpr std::uint32_t record_flags_unusable = record_flag_deleted | record_flag_moved | record_flag_orphaned;
// Removed, with every variable under "<name>/", once no process holds it bound: an
// unnamed Python proxy's variable, as the Manager frees an object with its last
// proxy. Set and cleared by clients (mark_collectable, pin); the manager collects
// (op collect when a process drops the last binding; its sweep after a binder died).
constexpr std::uint32_t record_flag_collectable = 8;
constexpr int clock_tick_ms = 10;  // how often the manager ticks segment_header::clock_ns

// One variable. Scalars live in `scalar`; string/bytes/json/loop values in two
// buffer slots of `capacity` bytes that follow the record: a write fills the slot
// that is not active and then commits by one store of `active_slot`, so a writer
// killed at any point leaves the old or the new value (never a torn one).
// The first cache line holds everything a scalar write touches, so contending
// writers bounce one line, not two; the second is read-mostly.
struct alignas(64) variable_record {
  robust_mutex mutex;                     // guards buffer writes and reads, and structural changes
  std::atomic<std::uint64_t> last_write;  // (ms since the epoch << 22) | writer pid: one store
  // version and scalar are one 16-byte word: a scalar write changes both by one
  // compare-exchange, without the mutex (record_ops.hpp, "scalars"); a buffer write
  // raises the version under the mutex. Low 32 bits of version = the futex word.
  alignas(16) std::atomic<std::uint64_t> version;  // +1 per committed write
  std::atomic<std::uint64_t> scalar;               // int64/uint64/double/bool bits
  // ---- second cache line: read-mostly
  std::atomic<std::uint32_t> flags;        // record_flag_*
  std::atomic<std::uint32_t> waiters;      // processes in wait_for_change (changed under mutex)
  std::atomic<std::uint32_t> bind_count;   // bindings, of all processes; a retired record is freed at 0
  std::atomic<std::uint32_t> active_slot;  // 0 or 1
  value_type type;
  // 1 while a moved predecessor forwards to this record (its moved_to): the record is
  // not freed before the predecessor is, so a process bound to it can follow.
  std::atomic<std::uint32_t> held_by_predecessor;
  std::uint32_t name_length;
  std::uint64_t self_offset;  // this record's offset: base = this - self_offset
  std::int64_t created_ns;
  std::uint64_t capacity;  // value bytes a buffer slot holds (0 for scalars)
  std::uint64_t slot_length[2];
  // Offset of the record this one's value moved to (set before record_flag_moved).
  // The successor is held (held_by_predecessor) until this record is freed, so a
  // process still bound to it can always follow the chain.
  std::atomic<std::uint64_t> moved_to;
  // Which processes hold bind_count, so the manager can give back those of a process
  // that died: binding_ledger.hpp. Key (start time << 22 | pid), 0 free; count.
  std::atomic<std::uint64_t> binder_key[record_binder_slots];
  std::atomic<std::uint32_t> binder_count[record_binder_slots];
  // A `lock`'s counters (its holder lives in the scalar word: shared/src/plain_lock.hpp):
  // acquisitions, each stored by the holder that made it; holders found dead, by
  // the evicter under the mutex.
  std::atomic<std::uint64_t> lock_acquisitions;
  std::atomic<std::uint64_t> lock_dead_holders;

  // The name's bytes follow the slots (name_length of them, at most 255): a record
  // takes room for the name it has, not for the longest one.
  std::string_view name_view() const { return {name_data(), name_length}; }
  const char* name_data() const { return reinterpret_cast<const char*>(this + 1) + slots_of(type) * slot_stride(); }
  char* name_data() { return reinterpret_cast<char*>(this + 1) + slots_of(type) * slot_stride(); }
  // Linux pids fit 22 bits (pid_max <= 4194304); 42 bits of ms last 139 years.
  static std::uint64_t pack_last_write(std::int64_t ns, std::int32_t pid) {
    return (static_cast<std::uint64_t>(ns / 1'000'000) << 22) | (static_cast<std::uint64_t>(pid) & 0x3fffff);
  }
  std::int32_t last_writer_pid() const { return static_cast<std::int32_t>(last_write.load() & 0x3fffff); }
  std::int64_t last_write_ns() const { return static_cast<std::int64_t>(last_write.load() >> 22) * 1'000'000; }
  const segment_header& header() const {
    return *reinterpret_cast<const segment_header*>(reinterpret_cast<const char*>(this) - self_offset);
  }
  segment_header& header() { return *reinterpret_cast<segment_header*>(reinterpret_cast<char*>(this) - self_offset); }
  // Slots start 8-byte aligned: slot 1 is one rounded-up capacity after slot 0.
  std::uint64_t slot_stride() const { return (capacity + 7) & ~std::uint64_t{7}; }
  char* slot_data(std::uint32_t slot) { return reinterpret_cast<char*>(this + 1) + slot * slot_stride(); }
  const char* slot_data(std::uint32_t slot) const {
    return reinterpret_cast<const char*>(this + 1) + slot * slot_stride();
  }
  std::uint32_t* futex_word() { return reinterpret_cast<std::uint32_t*>(&version); }
  bool deleted() const { return flags.load(std::memory_order_acquire) & record_flag_deleted; }
  bool moved() const { return flags.load(std::memory_order_acquire) & record_flag_moved; }
  bool orphaned() const { return flags.load(std::memory_order_acquire) & record_flag_orphaned; }
};

// The header of a heap block: one 8-byte word, alone on the block's first cache line
// (the record follows on the next). Every change to a block is one store of it, so a
// walk of the heap by sizes is valid at every instruction (block_heap.hpp).
struct heap_block {
  std::atomic<std::uint64_t> word;  // size (a multiple of 64) | tag | state
  char pad[56];
};
static_assert(sizeof(heap_block) == 64);
enum class block_state : std::uint64_t {
  free = 0,
  reserved = 1,   // allocated, being initialised; freed by an adopting manager unless
                  // a published record forwards to it (moved_to)
  published = 2,  // a variable's record: live, or retired (deleted/moved) until unbound
};
constexpr std::uint64_t block_tag = 0x28;  // bits 2..5: a word without it is not a header

// Bytes a record of that capacity takes in the heap (record + its slots + its name).
constexpr std::uint64_t record_footprint(std::uint64_t capacity, std::uint32_t slots, std::uint64_t name_length) {
  return sizeof(variable_record) + slots * ((capacity + 7) & ~std::uint64_t{7}) + name_length;
}

// The head of a queue's slot, followed by max_items ring entries of
// [u64 length][item_size bytes, rounded up to 8]. Items [head, tail) are queued.
// put writes the entry at tail, then commits by one store of tail; get copies the
// entry at head, then commits by one store of head: a process killed mid-way leaves
// the item queued or not, never half. Changed under the record's mutex.
struct queue_header {
  value_type element;               // the type of the items (a scalar, string, bytes or json)
  std::uint32_t unbounded;          // 1: Python's maxsize 0; a full ring is grown, never refused
  std::uint64_t max_items;          // the ring's slots
  std::uint64_t item_size;          // the most bytes one encoded item takes
  std::atomic<std::uint64_t> head;  // items taken, ever
  std::atomic<std::uint64_t> tail;  // items put, ever
  std::atomic<std::uint64_t> done;  // task_done calls, ever: unfinished = tail - done
};
static_assert(sizeof(robust_mutex) + 3 * 8 == 64, "a scalar write touches one cache line");

// The layout, checked at compile time: a change to any of these is a change of
// layout_version (bump it), found by the build rather than by a layout_mismatch at
// run time. Processes of one layout share these structs through the segment, so
// every atomic in them must be lock-free (an address-free futex-able word).
static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free &&
                  std::atomic<std::int64_t>::is_always_lock_free && std::atomic<std::int32_t>::is_always_lock_free,
              "shared-memory atomics must be lock-free");
static_assert(sizeof(std::atomic<std::uint64_t>) == 8 && alignof(std::atomic<std::uint64_t>) == 8);
static_assert(sizeof(robust_mutex) == 40, "pthread_mutex_t of x86-64/aarch64 glibc");
static_assert(layout_version == 10, "the asserts below describe layout 10: update them with the layout");
static_assert(sizeof(segment_header) == 256 && offsetof(segment_header, directory_mutex) == 48 &&
              offsetof(segment_header, directory_generation) == 128 && offsetof(segment_header, incarnation) == 136 &&
              offsetof(segment_header, ended) == 144 && offsetof(segment_header, sessions_offset) == 152 &&
              offsetof(segment_header, session_capacity) == 160 && offsetof(segment_header, ledger_claims) == 168 &&
              offsetof(segment_header, clock_ns) == 192);
static_assert(sizeof(directory_slot) == 16);
static_assert(sizeof(variable_record) == 256 && alignof(variable_record) == 64);
static_assert(offsetof(variable_record, last_write) == 40 && offsetof(variable_record, version) == 48 &&
              offsetof(variable_record, scalar) == 56 && offsetof(variable_record, version) % 16 == 0 &&
              offsetof(variable_record, flags) == 64 && offsetof(variable_record, bind_count) == 72 &&
              offsetof(variable_record, moved_to) == 136 && offsetof(variable_record, binder_key) == 144 &&
              offsetof(variable_record, binder_count) == 208 && offsetof(variable_record, lock_acquisitions) == 240);
static_assert(sizeof(loop_snapshot) == 256 && offsetof(loop_snapshot, epoch) == 48 && sizeof(sync_holder) == 32 &&
              offsetof(sync_state, fence) == 64 && sizeof(sync_state) == 2120 && sizeof(queue_header) == 48);

// A string, bytes or json variable created without a capacity gets room for its
// initial value, at least this; a value that outgrows it doubles it (grow_variable).
// 256 until 2026-12-08, which made a 16-byte string 896 bytes of segment; now 512.
// Not less: a write that outgrows it needs the manager, and while none runs (a
// crash, a restart) a client writes on only within the room it has.
constexpr std::uint64_t default_buffer_capacity = 64;
// Types whose buffer the manager grows when a value outgrows it (see array_ops.hpp
// for lists).
constexpr bool is_growable(value_type t) {
  return t == value_type::string || t == value_type::bytes || t == value_type::json || t == value_type::list ||
         t == value_type::queue;  // a queue grows its item size
}
constexpr std::uint64_t max_buffer_capacity = 64ull << 20;

}  // namespace mpstate::core
