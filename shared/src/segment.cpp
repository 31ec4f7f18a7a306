// SPDX-License-Identifier: MIT
#include "mpstate/core/segment.hpp"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cerrno>
#include <cstring>

#include "mpstate/core/binding_ledger.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

std::uint64_t name_hash(std::string_view name) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h < 2 ? h + 2 : h;  // never collides with the empty/tombstone markers
}

namespace {
namespace bip = boost::interprocess;

// Boost's error for `path` as mpstate's.
[[noreturn]] void throw_object_error(const std::string& path, const bip::interprocess_exception& e) {
  const int err = e.get_native_error();
  if (err == ENOENT) throw error(errc::not_found, "no segment " + path + " (is a manager running?)");
  if (err == EEXIST) throw error(errc::already_exists, "segment " + path + " already exists");
  if (err == EACCES || err == EPERM)
    throw error(errc::permission_denied, "segment " + path + " belongs to another user");
  throw_system_error("shm_open " + path, err != 0 ? err : EIO);
}

// A segment someone else made (or opened up) under our name is not ours to use: the
// owner and mode, which Boost does not show, from the object's descriptor.
std::uint64_t checked_size(const bip::shared_memory_object& object, const std::string& path) {
  struct stat st {};
  if (::fstat(object.get_mapping_handle().handle, &st) != 0) throw_system_error("fstat " + path, errno);
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    throw error(errc::permission_denied, "segment " + path + " is owned by uid " + std::to_string(st.st_uid) +
                                             " with mode " + permission_text(st.st_mode) +
                                             "; only this user's 0600 segments are used");
  }
  // Not sized yet: a manager is making it (between its create and the reservation of
  // every page, milliseconds for a large segment), or one died doing so. As for a
  // header whose magic is not written yet (segment::open), the caller may try again.
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < sizeof(segment_header)) {
    throw error(errc::manager_unavailable, "segment " + path +
                                               " is not sized yet: a manager is making it (connect again once it "
                                               "serves), or one died doing so");
  }
  return size;
}
}  // namespace

// Boost.Interprocess's shared memory object (shm_open, O_CLOEXEC by glibc; created
// O_EXCL and fchmod-ed to exactly 0600 past the umask) and mapped region (one
// MAP_SHARED mmap); the descriptor is closed once mapped.
std::unique_ptr<bip::mapped_region> map_shared_memory(const std::string& shm_name, bool create, std::uint64_t& size) {
  const std::string path = "/" + shm_name;
  bip::shared_memory_object object;
  try {
    if (create) {
      object = bip::shared_memory_object(bip::create_only, shm_name.c_str(), bip::read_write, bip::permissions(0600));
    } else {
      object = bip::shared_memory_object(bip::open_only, shm_name.c_str(), bip::read_write);
    }
  } catch (const bip::interprocess_exception& e) {
    throw_object_error(path, e);
  }
  if (create) {
    try {  // every page reserved now (posix_fallocate): a full /dev/shm is an error here, never a SIGBUS later
      object.truncate(static_cast<bip::offset_t>(size));
    } catch (const bip::interprocess_exception& e) {
      bip::shared_memory_object::remove(shm_name.c_str());
      throw error(errc::segment_full, "cannot reserve " + std::to_string(size) + " bytes for " + path + ": " +
                                          std::string(std::strerror(e.get_native_error())));
    }
  } else {
    size = checked_size(object, path);
  }
  try {
    return std::make_unique<bip::mapped_region>(object, bip::read_write, 0, static_cast<std::size_t>(size));
  } catch (const bip::interprocess_exception& e) {
    throw_system_error("mmap " + path, e.get_native_error() != 0 ? e.get_native_error() : ENOMEM);
  }
}

bool remove_shared_memory(const std::string& shm_name) noexcept {
  return bip::shared_memory_object::remove(shm_name.c_str());
}

void check_header(const segment_header& h, std::uint64_t mapped_size, const std::string& what) {
  if (h.magic != segment_magic) {
    throw error(errc::layout_mismatch, what + " is not an mpstate segment (bad magic)");
  }
  if (h.layout_version != layout_version || h.header_size != sizeof(segment_header)) {
    throw error(errc::layout_mismatch, what + " has layout version " + std::to_string(h.layout_version) +
                                           "; this build speaks " + std::to_string(layout_version));
  }
  if (h.segment_size != mapped_size || h.heap_offset + h.heap_size > mapped_size ||
      h.directory_offset + 2 * std::uint64_t{h.directory_capacity} * sizeof(directory_slot) > h.heap_offset ||
      h.directory_active.load() > 1) {
    throw error(errc::layout_mismatch, what + " has an inconsistent header (size " + std::to_string(h.segment_size) +
                                           ", mapped " + std::to_string(mapped_size) + ")");
  }
}

segment::segment(std::string shm_name, std::unique_ptr<boost::interprocess::mapped_region> region)
    : shm_name_(std::move(shm_name)),
      region_(std::move(region)),
      base_(region_->get_address()),
      size_(region_->get_size()) {}

segment::~segment() = default;

std::unique_ptr<segment> segment::open(const std::string& shm_name) {
  std::uint64_t size = 0;
  std::unique_ptr<segment> s(new segment(shm_name, map_shared_memory(shm_name, false, size)));
  // A manager that is starting has made the segment but not finished its header (the
  // magic is written last): not a foreign segment, a manager that does not serve yet.
  if (std::atomic_ref<const std::uint64_t>(s->header().magic).load(std::memory_order_acquire) == 0) {
    throw error(errc::manager_unavailable, "segment /" + shm_name +
                                               " is being made by a manager that is "
                                               "starting; connect again once it serves");
  }
  check_header(s->header(), size, "segment /" + shm_name);
  return s;
}

std::int64_t segment::find_slot(std::string_view name, std::uint64_t hash) const {
  const auto& h = header();
  const std::uint64_t mask = h.directory_capacity - 1;
  directory_slot* table = slots();
  for (std::uint64_t i = 0, idx = hash & mask; i < h.directory_capacity; ++i, idx = (idx + 1) & mask) {
    const directory_slot& s = table[idx];
    if (s.record_offset == slot_empty) return -1;
    if (s.record_offset != slot_tombstone && s.name_hash == hash && record_at(s.record_offset)->name_view() == name) {
      return static_cast<std::int64_t>(idx);
    }
  }
  return -1;
}

variable_record* segment::find_locked(std::string_view name, bool bind) const {
  const std::int64_t idx = find_slot(name, name_hash(name));
  if (idx < 0) return nullptr;
  variable_record* r = record_at(slots()[idx].record_offset);
  if (bind) bind_record(*r);
  return r;
}

void segment::check_not_ended() const {
  if (ended()) {
    throw error(errc::manager_unavailable,
                "the manager of segment /" + shm_name_ + " ended and removed it: connect again to use a new manager");
  }
}

variable_record* segment::find(std::string_view name, bool bind) const {
  check_not_ended();
  robust_lock lock(header().directory_mutex);
  return find_locked(name, bind);
}

std::uint32_t segment::unbind(variable_record* r) noexcept { return r ? unbind_record(*r) : 0; }

std::vector<std::string> segment::scan_names(std::string_view prefix) const {
  std::vector<std::string> out;
  const directory_slot* table = slots();
  for (std::uint32_t i = 0; i < header().directory_capacity; ++i) {
    const std::uint64_t offset =
        std::atomic_ref<const std::uint64_t>(table[i].record_offset).load(std::memory_order_acquire);
    if (offset <= slot_tombstone || offset + sizeof(variable_record) > size()) continue;
    const variable_record* r = record_at(offset);
    // Read racing the manager (the seqlock below tells): a name that would run past
    // the mapping is skipped, never read.
    const std::uint64_t length = std::min<std::uint64_t>(r->name_length, max_name_length);
    const std::uint64_t stride = (std::min<std::uint64_t>(r->capacity, size()) + 7) & ~std::uint64_t{7};
    const std::uint64_t at = offset + sizeof(variable_record) + slots_of(r->type) * stride;  // as name_data()
    if (at + length > size()) continue;
    const std::string_view name(reinterpret_cast<const char*>(r) + (at - offset), length);
    if (name.substr(0, prefix.size()) == prefix) out.emplace_back(name);
  }
  return out;
}

std::vector<std::string> segment::list_names(std::string_view prefix) const {
  check_not_ended();
  std::vector<std::string> out;
#if !defined(__SANITIZE_THREAD__)  // TSan cannot follow a seqlock: it takes the lock below
  const auto& generation = header().directory_generation;
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint64_t before = generation.load(std::memory_order_acquire);
    if (before & 1) {  // the manager is changing it: a moment
      sched_yield();
      continue;
    }
    out = scan_names(prefix);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (generation.load(std::memory_order_relaxed) == before) {
      std::sort(out.begin(), out.end());
      return out;
    }
  }
#endif
  // Still changing after 100 tries, or odd for good (a manager died mid-change):
  // the lock, which the manager holds while it changes the table.
  {
    robust_lock lock(header().directory_mutex);
    out = scan_names(prefix);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<variable_record*> segment::list(std::string_view prefix, bool bind) const {
  std::vector<variable_record*> out;
  for (const std::string& name : list_names(prefix)) {
    if (variable_record* r = find(name, bind)) out.push_back(r);  // deleted meanwhile: left out
  }
  return out;
}

}  // namespace mpstate::core
