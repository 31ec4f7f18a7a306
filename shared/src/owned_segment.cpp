// SPDX-License-Identifier: MIT
#include "mpstate/core/owned_segment.hpp"

#include <sys/mman.h>
#include <sys/random.h>

#include <algorithm>
#include <bit>
#include <boost/interprocess/mapped_region.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

#include "mpstate/core/crash_point.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/queue_ops.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sessions.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

namespace {

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) / a * a; }

// One 16-byte slot per 512 bytes of segment (3%): an int64 record takes ~400 bytes,
// so the name table runs out about when the heap does. 1M names need a 1G segment.
// 64 random bits, never 0 (0 reads as "none" in messages and hello).
std::uint64_t random_incarnation() {
  std::uint64_t id = 0;
  while (id == 0) {
    if (::getrandom(&id, sizeof id, 0) != static_cast<ssize_t>(sizeof id)) id = static_cast<std::uint64_t>(now_ns());
  }
  return id;
}

std::uint32_t directory_capacity_for(std::uint64_t size) {
  std::uint64_t slots = std::bit_floor(std::max<std::uint64_t>(size / 512, 64));
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(slots, 1u << 24));
}

}  // namespace

owned_segment::owned_segment(std::string shm_name, std::unique_ptr<boost::interprocess::mapped_region> region)
    : segment(std::move(shm_name), std::move(region)) {}

owned_segment::~owned_segment() = default;

std::unique_ptr<owned_segment> owned_segment::create_or_adopt(const std::string& shm_name, std::uint64_t size) {
  if (size < min_segment_size) {
    throw error(errc::invalid_argument, "segment size " + std::to_string(size) + " is below the minimum of 256K");
  }
  std::uint64_t mapped = size;
  bool adopted = false;
  std::unique_ptr<boost::interprocess::mapped_region> region;
  try {
    region = map_shared_memory(shm_name, true, mapped);
  } catch (const error& e) {
    if (e.code() != errc::already_exists) throw;
    region = map_shared_memory(shm_name, false, mapped);
    adopted = true;
  }
  std::unique_ptr<owned_segment> s(new owned_segment(shm_name, std::move(region)));
  s->adopted_ = adopted;
  segment_header& h = s->header();
  if (adopted) {
    check_header(h, mapped, "existing segment /" + shm_name);
    s->heap_ = std::make_unique<block_heap>(s->base(), h.heap_offset, h.heap_size);
    s->adopt_heap();
  } else {
    s->format_header(h);
    s->heap_ = std::make_unique<block_heap>(s->base(), h.heap_offset, h.heap_size);
    s->heap_->format();
    std::atomic_ref<std::uint64_t>(h.magic).store(segment_magic, std::memory_order_release);
  }
  s->claim_for_this_process();
  return s;
}

void owned_segment::format_header(segment_header& h) {
  std::memset(static_cast<void*>(&h), 0, sizeof h);
  h.magic = 0;  // written last, so a half-built header never passes check_header
  h.layout_version = layout_version;
  h.header_size = sizeof(segment_header);
  h.segment_size = size();
  h.created_ns = now_ns();
  h.incarnation = random_incarnation();
  h.directory_mutex.init();
  h.directory_offset = align_up(sizeof(segment_header), 64);
  h.directory_capacity = directory_capacity_for(size());
  h.sessions_offset =
      align_up(h.directory_offset + 2 * std::uint64_t{h.directory_capacity} * sizeof(directory_slot), 64);
  // A slot per 16 KiB of segment, 64 to 4,096 (4,096 from 64 MiB): zeroed, every one free.
  h.session_capacity = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(size() / (std::uint64_t{16} * 1024), 64, max_session_capacity));
  h.heap_offset = align_up(h.sessions_offset + std::uint64_t{h.session_capacity} * sizeof(std::uint64_t), 4096);
  if (h.heap_offset + std::uint64_t{64} * 1024 > size()) {
    throw error(errc::invalid_argument, "segment too small for its directory");
  }
  h.heap_size = size() - h.heap_offset;
}

// The heap is the truth; the name table and the free lists are rebuilt from it.
//   published, not deleted or moved  -> a live variable (named in the new table)
//   published, deleted or moved      -> retired: freed once unbound
//   reserved, a published record forwards to it -> a grow that committed: published
//   reserved, nothing forwards to it -> a create or grow that never committed: freed
void owned_segment::adopt_heap() {
  std::vector<variable_record*> published, reserved;
  heap_->adopt([&](std::uint64_t offset, block_state state) {
    (state == block_state::published ? published : reserved).push_back(record_at(offset));
  });
  std::unordered_set<std::uint64_t> successors;
  for (variable_record* r : published) {
    if (r->moved()) successors.insert(r->moved_to.load());
  }
  for (variable_record* r : reserved) {
    if (successors.contains(offset_of(r))) {
      heap_->publish(offset_of(r));
      published.push_back(r);
      ++adoption_.completed;
    } else {
      heap_->release(offset_of(r));
      ++adoption_.unpublished;
    }
  }
  std::vector<variable_record*> live;
  std::size_t named_before = 0;
  for (std::uint32_t i = 0; i < header().directory_capacity; ++i) {
    if (slots()[i].record_offset > slot_tombstone) ++named_before;
  }
  // A manager killed while ending the segment (end_incarnation, before its unlink):
  // the segment lives on, as after any crash.
  header().ended.store(0);
  // The remote sessions of the manager that died ended with its connections.
  for (std::uint32_t i = 0; i < header().session_capacity; ++i) {
    std::atomic<std::uint64_t>& word = session_words(header())[i];
    if (word.load() & 1) word.fetch_add(1);
  }
  for (variable_record* r : published) {
    r->flags.fetch_and(~record_flag_orphaned);
    r->held_by_predecessor.store(successors.contains(offset_of(r)) ? 1 : 0);
    if (r->deleted() || r->moved()) {
      retired_.push_back(r);
    } else {
      live.push_back(r);
      if (is_structured(r->type)) watched_.push_back(r);
    }
  }
  adoption_.live = live.size();
  adoption_.retired = retired_.size();
  // A delete or grow that committed but died before renaming left one name too many.
  if (named_before > live.size()) adoption_.completed += named_before - live.size();
  // A manager killed between a commit (a delete's or a move's version bump) and its
  // wake-up leaves sleepers in wait_for_change: wake them all (no-op without any).
  for (variable_record* r : published) wake_if_waiting(*r);
  // The new table is written where no reader looks (the inactive one), so a client
  // stopped holding the lock in a lookup delays nothing: try it, go on either way.
  bool died = false;
  const bool locked = header().directory_mutex.try_lock(&died);
  rebuild_directory(live);
  if (locked) header().directory_mutex.unlock();
}

bool owned_segment::insert_name(directory_slot* table, variable_record* r) {
  const std::uint64_t mask = header().directory_capacity - 1;
  const std::uint64_t hash = name_hash(r->name_view());
  std::uint64_t idx = hash & mask;
  while (table[idx].record_offset > slot_tombstone) idx = (idx + 1) & mask;
  const bool reused = table[idx].record_offset == slot_tombstone;
  table[idx].name_hash = hash;
  std::atomic_ref<std::uint64_t>(table[idx].record_offset).store(offset_of(r), std::memory_order_release);
  return reused;
}

void owned_segment::rebuild_directory(const std::vector<variable_record*>& live) {
  segment_header& h = header();
  const std::uint32_t next = 1 - h.directory_active.load();
  directory_slot* table = this->table(next);
  std::memset(static_cast<void*>(table), 0, std::uint64_t{h.directory_capacity} * sizeof(directory_slot));
  for (variable_record* r : live) insert_name(table, r);
  crash_point("rehash: new table filled, not switched");
  // Even again if a manager died mid-change (adoption); readers then see it settle.
  h.directory_generation.store((h.directory_generation.load() | 1) + 1, std::memory_order_release);
  directory_change change(h);
  h.directory_active.store(next, std::memory_order_release);
  h.directory_used = static_cast<std::uint32_t>(live.size());
  h.directory_tombstones = 0;
}

bool owned_segment::compact_directory() {
  segment_header& h = header();
  if (h.directory_tombstones <= h.directory_capacity / 8) return false;
  std::optional<robust_lock> lock;
  try {
    lock.emplace(h.directory_mutex);
  } catch (const lock_busy&) {
    return false;  // a client holds the table: after the next delete
  }
  std::vector<variable_record*> live;
  live.reserve(h.directory_used);
  const directory_slot* table = slots();
  for (std::uint32_t i = 0; i < h.directory_capacity; ++i) {
    if (table[i].record_offset > slot_tombstone) live.push_back(record_at(table[i].record_offset));
  }
  rebuild_directory(live);
  return true;
}

// The event-loop thread (its op_context may not wait) is the table's only writer: its
// lookups need no lock. Any other thread of the manager (the answer pool's, making a
// dump) looks up as a client does, under the directory's lock.
variable_record* owned_segment::find(std::string_view name, bool bind) const {
  if (ops_may_wait()) return segment::find(name, bind);
  return find_locked(name, bind);
}

void owned_segment::tick_clock() { header().clock_ns.store(now_ns(), std::memory_order_relaxed); }

void owned_segment::claim_for_this_process() {
  tick_clock();
  process_identity me = self_identity();
  header().manager_start_time.store(me.start_time);
  header().manager_pid.store(me.pid);
}

variable_record* owned_segment::allocate_record(std::string_view name, value_type type, std::uint64_t capacity,
                                                bool zero_slots) {
  const std::uint64_t footprint = record_footprint(capacity, slots_of(type), name.size());
  const std::uint64_t offset = heap_->reserve(footprint);
  if (offset == 0) {
    throw error(errc::segment_full, "no room for '" + std::string(name) + "' (" + std::to_string(footprint) +
                                        " bytes, " + std::to_string(free_bytes()) + " free)");
  }
  auto* r = record_at(offset);
  std::memset(static_cast<void*>(r), 0, zero_slots ? footprint : sizeof(variable_record));
  r->self_offset = offset;
  r->mutex.init();
  r->type = type;
  r->capacity = capacity;
  r->name_length = static_cast<std::uint32_t>(name.size());
  std::memcpy(r->name_data(), name.data(), name.size());  // after type and capacity: they place it
  return r;
}

variable_record* owned_segment::create_variable(std::string_view name, value_type type, std::uint64_t capacity,
                                                const record_init& init) {
  validate_variable_name(name);
  if (type == value_type::loop)
    capacity = sizeof(loop_snapshot);
  else if (is_sync(type))
    capacity = sizeof(sync_state);
  else if (is_scalar(type))
    capacity = 0;
  else if (type == value_type::queue && capacity == 0) {
    throw error(errc::invalid_argument, "a queue needs its capacity (queue_capacity())");
  } else if (capacity == 0)
    capacity = default_buffer_capacity;
  if (capacity > max_buffer_capacity) {
    throw error(errc::value_too_large, "capacity " + std::to_string(capacity) + " is over the limit of 64M");
  }
  segment_header& h = header();
  // No lock: only the manager changes names, so the answer holds until it publishes.
  if (find_slot(name, name_hash(name)) >= 0) {
    throw error(errc::already_exists, "variable '" + std::string(name) + "' already exists");
  }
  if (h.directory_used + 1 > h.directory_capacity / 4 * 3) {
    throw error(errc::segment_full, "the name table is full (" + std::to_string(h.directory_used) +
                                        " names); delete some or start a larger segment");
  }
  // Build the whole record where nobody can see it.
  variable_record* r = nullptr;
  for (int attempt = 0;; ++attempt) {
    r = allocate_record(name, type, capacity, /*zero_slots=*/true);
    r->created_ns = now_ns();
    r->last_write.store(variable_record::pack_last_write(r->created_ns, getpid()));
    if (type == value_type::json) {  // the zero value of json is null
      std::memcpy(r->slot_data(0), "null", 4);
      r->slot_length[0] = 4;
    }
    if (type == value_type::loop) r->slot_length[0] = sizeof(loop_snapshot);
    if (is_sync(type)) r->slot_length[0] = sizeof(sync_state);  // all zero: free, clear, empty
    try {
      // Writes into a record nobody can see yet change nothing a retry could repeat.
      op_context* ctx = current_op_context();
      const bool committed_before = ctx && ctx->committed;
      if (init) init(*r);
      if (ctx) ctx->committed = committed_before;
      break;
    } catch (const buffer_too_small& e) {
      heap_->release(offset_of(r));
      if (attempt > 0 || !is_growable(type) || e.needed().bytes > max_buffer_capacity) throw;
      capacity = std::max(e.needed().bytes, capacity);
    } catch (...) {
      heap_->release(offset_of(r));
      throw;
    }
  }
  crash_point("create: record initialised, not published");
  std::optional<robust_lock> lock;
  try {
    lock.emplace(h.directory_mutex);  // before the commit point: busy leaves nothing made
  } catch (...) {
    heap_->release(offset_of(r));
    throw;
  }
  heap_->publish(offset_of(r));  // the commit point: an adopting manager names it
  crash_point("create: record published, not named");
  {
    directory_change change(h);
    if (insert_name(slots(), r)) --h.directory_tombstones;
    ++h.directory_used;
  }
  lock.reset();
  crash_point("create: named");
  if (is_structured(type)) watched_.push_back(r);
  return r;
}

variable_record* owned_segment::grow_variable(std::string_view name, growth needed) {
  validate_variable_name(name);
  variable_record* old = find(name);
  if (!old) throw error(errc::not_found, "no variable '" + std::string(name) + "'");
  if (!is_growable(old->type)) {
    throw error(errc::type_mismatch, std::string(to_string(old->type)) + " '" + std::string(name) +
                                         "' does not grow (only string, bytes, json, list and queue do)");
  }
  if (needed.bytes > max_buffer_capacity || needed.items > max_buffer_capacity) {
    throw error(errc::value_too_large,
                "growth to " + std::to_string(std::max(needed.bytes, needed.items)) + " is over the limit of 64M");
  }
  // A queue grows its item size (needed.bytes) and, unbounded, its slots; the others their buffer.
  const bool queue = old->type == value_type::queue;
  const queue_counts shape = queue ? read_queue(*old) : queue_counts{};
  const std::uint64_t current = queue ? shape.item_size : old->capacity;
  const bool more_items = queue && shape.unbounded && needed.items > shape.slots;
  if (needed.bytes <= current && !more_items) return old;  // grown meanwhile
  const std::uint64_t wanted =
      needed.bytes <= current ? current : std::min(std::max(needed.bytes, current * 2), max_buffer_capacity);
  const std::uint64_t ring = more_items ? std::max(needed.items, shape.slots * 2) : shape.slots;
  const std::uint64_t capacity = queue ? grown_queue_capacity(*old, wanted, ring) : wanted;
  variable_record* r = allocate_record(name, old->type, capacity, /*zero_slots=*/false);  // the value is copied in
  r->created_ns = old->created_ns;
  r->held_by_predecessor.store(1);  // until the old record is freed (see layout.hpp, moved_to)
  // Both locks before the commit point: a busy one leaves nothing changed.
  std::optional<robust_lock> dir;
  std::optional<locked_record> lock;
  try {
    dir.emplace(header().directory_mutex);
    lock.emplace(*old);  // writers wait here; they find the record moved after
  } catch (...) {
    heap_->release(offset_of(r));
    throw;
  }
  {
    if (queue) {
      copy_queue(*old, *r, wanted, ring);
    } else {
      std::string_view value = committed_bytes(*old);
      std::memcpy(r->slot_data(0), value.data(), value.size());
      r->slot_length[0] = value.size();
    }
    r->last_write.store(old->last_write.load());
    r->flags.fetch_or(old->flags.load() & record_flag_collectable);  // an unnamed proxy's stays collectable
    const std::uint64_t version = old->version.load() + 1;
    r->version.store(version);
    crash_point("grow: value copied, old record not forwarding");
    old->moved_to.store(offset_of(r), std::memory_order_release);
    old->flags.fetch_or(record_flag_moved, std::memory_order_release);  // the commit point
    old->version.store(version, std::memory_order_release);
    crash_point("grow: old record forwards, successor reserved");
  }
  heap_->publish(offset_of(r));
  crash_point("grow: successor published, not named");
  {
    directory_change change(header());
    std::atomic_ref<std::uint64_t>(slots()[find_slot(name, name_hash(name))].record_offset)
        .store(offset_of(r), std::memory_order_release);
  }
  lock.reset();
  dir.reset();
  crash_point("grow: named");
  wake_waiters(*old);  // they wake, find it moved, and follow
  retired_.push_back(old);
  free_unbound_records();
  return r;
}

void owned_segment::delete_variable(std::string_view name) {
  if (!delete_variable_if(name, {})) throw error(errc::not_found, "no variable '" + std::string(name) + "'");
}

bool owned_segment::delete_variable_if(std::string_view name,
                                       const std::function<bool(const variable_record&)>& only_if) {
  segment_header& h = header();
  variable_record* r = nullptr;
  {
    robust_lock dir(h.directory_mutex);  // both locks before the commit point (busy: nothing done)
    const std::int64_t idx = find_slot(name, name_hash(name));
    if (idx < 0) return false;
    r = record_at(slots()[idx].record_offset);
    if (only_if && !only_if(*r)) return false;
    {
      robust_lock record_lock(r->mutex, "variable '" + std::string(name) + "'");
      r->flags.fetch_or(record_flag_deleted);  // the commit point
      bump_version(*r);                        // a lock-free scalar writer looks at the flags again
    }
    crash_point("delete: record marked deleted, still named");
    directory_change change(h);
    std::atomic_ref<std::uint64_t>(slots()[idx].record_offset).store(slot_tombstone, std::memory_order_release);
    --h.directory_used;
    ++h.directory_tombstones;
  }
  crash_point("delete: name removed");
  wake_waiters(*r);
  std::erase(watched_, r);
  retired_.push_back(r);
  free_unbound_records();
  compact_directory();
  return true;
}

std::size_t owned_segment::free_unbound_records() {
  std::size_t freed = 0;
  for (bool progress = true; progress;) {  // freeing a moved record may free its successor
    progress = false;
    for (auto it = retired_.begin(); it != retired_.end();) {
      variable_record* r = *it;
      if (r->bind_count.load(std::memory_order_acquire) != 0 || r->held_by_predecessor.load() != 0) {
        ++it;
        continue;
      }
      if (r->moved()) {  // idempotent, so a manager killed after it repeats it harmlessly
        record_at(r->moved_to.load())->held_by_predecessor.store(0, std::memory_order_release);
        progress = true;
        crash_point("free: successor let go, record not freed");
      }
      heap_->release(offset_of(r));
      it = retired_.erase(it);
      ++freed;
    }
  }
  return freed;
}

std::uint64_t owned_segment::free_bytes() const { return heap_->free_bytes(); }

void owned_segment::unlink() noexcept { remove_shared_memory(shm_name()); }

process_identity owned_segment::open_session() {
  const std::uint32_t n = header().session_capacity;
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::uint32_t i = (next_session_ + k) % n;
    std::atomic<std::uint64_t>& word = session_words(header())[i];
    const std::uint64_t now = word.load();
    if (now & 1) continue;  // a live session
    word.store(now + 1);    // the manager is the table's only writer
    next_session_ = i + 1;
    return {-static_cast<pid_t>(i + 1), now + 1};
  }
  throw error(errc::too_many_connections, std::to_string(n) + " TCP connections hold something already");
}

void owned_segment::end_session(const process_identity& session) noexcept {
  if (!is_session(session)) return;
  const auto i = static_cast<std::uint64_t>(-static_cast<std::int64_t>(session.pid)) - 1;
  if (i >= header().session_capacity) return;
  std::atomic<std::uint64_t>& word = session_words(header())[i];
  if (word.load() == session.start_time) word.store(session.start_time + 1);
}

}  // namespace mpstate::core
