// SPDX-License-Identifier: MIT
// A mapped segment: the view every process has (clients and the manager).
// Lookups take the directory's robust mutex; nothing here allocates in the segment.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mpstate/core/layout.hpp"

namespace boost::interprocess {
class mapped_region;  // the segment's mapping (shared/src/segment.cpp); no Boost here
}

namespace mpstate::core {

class segment {
 public:
  // Maps the existing segment `shm_name` read-write and checks its header.
  // Throws error(not_found) when it does not exist, error(permission_denied) when it
  // may not be opened, error(layout_mismatch) for a bad or foreign header.
  static std::unique_ptr<segment> open(const std::string& shm_name);

  virtual ~segment();
  segment(const segment&) = delete;
  segment& operator=(const segment&) = delete;

  const std::string& shm_name() const { return shm_name_; }
  std::uint64_t size() const { return size_; }
  segment_header& header() const { return *static_cast<segment_header*>(base_); }
  char* base() const { return static_cast<char*>(base_); }
  std::uint64_t incarnation() const { return header().incarnation; }
  // True once its manager ended it for good (segment_header::ended).
  bool ended() const { return header().ended.load(std::memory_order_acquire) != 0; }
  // Throws error(manager_unavailable) when ended().
  void check_not_ended() const;

  variable_record* record_at(std::uint64_t offset) const { return reinterpret_cast<variable_record*>(base() + offset); }
  std::uint64_t offset_of(const variable_record* r) const {
    return static_cast<std::uint64_t>(reinterpret_cast<const char*>(r) - base());
  }

  // The record named `name`, or nullptr. With `bind`, its bind_count is raised under
  // the directory lock, so the manager will not free it until unbind() (see layout.hpp).
  // The manager's own (owned_segment) takes no lock: it is the directory's only writer.
  virtual variable_record* find(std::string_view name, bool bind = false) const;
  // Returns the bindings left, of every process (0 also for nullptr).
  static std::uint32_t unbind(variable_record* r) noexcept;
  // Live records whose names start with `prefix`, sorted by name: the names as by
  // list_names(), each then found as by find(). With `bind`, each is bound; the
  // caller unbinds every one when done.
  std::vector<variable_record*> list(std::string_view prefix = {}, bool bind = false) const;
  // The names under `prefix`, sorted. Takes no lock: scans the table while its
  // generation stays even and unchanged (a seqlock; see segment_header), so a
  // process stopped in here holds up nobody.
  std::vector<std::string> list_names(std::string_view prefix = {}) const;

 protected:
  segment(std::string shm_name, std::unique_ptr<boost::interprocess::mapped_region> region);
  // Index of `name`'s live slot, or -1. Caller holds the directory mutex (or is the manager).
  std::int64_t find_slot(std::string_view name, std::uint64_t hash) const;
  // find()'s work, the directory mutex held by the caller (or the caller the manager).
  variable_record* find_locked(std::string_view name, bool bind) const;
  // The names under `prefix` in the active table, unsorted; with a seqlock reader's
  // care (record_offset read atomically, names clamped), as list_names() needs.
  std::vector<std::string> scan_names(std::string_view prefix) const;
  // Table 0 or 1 of the directory; slots() is the active one.
  directory_slot* table(std::uint32_t which) const {
    return reinterpret_cast<directory_slot*>(base() + header().directory_offset) +
           std::uint64_t{which} * header().directory_capacity;
  }
  directory_slot* slots() const { return table(header().directory_active.load(std::memory_order_acquire)); }

 private:
  std::string shm_name_;
  std::unique_ptr<boost::interprocess::mapped_region> region_;
  void* base_;
  std::uint64_t size_;
};

// Marks a change of the directory for lock-free readers (segment_header's
// directory_generation odd for its scope). The changer holds directory_mutex.
class directory_change {
 public:
  explicit directory_change(segment_header& h) : h_(h) {
    h_.directory_generation.fetch_add(1, std::memory_order_acq_rel);
  }
  ~directory_change() { h_.directory_generation.fetch_add(1, std::memory_order_release); }
  directory_change(const directory_change&) = delete;
  directory_change& operator=(const directory_change&) = delete;

 private:
  segment_header& h_;
};

// The directory's hash (FNV-1a, 64-bit). Part of the layout: never change it
// without bumping layout_version.
std::uint64_t name_hash(std::string_view name) noexcept;

// Maps `shm_name` (creating it with `size` bytes, every page reserved, and mode
// 0600 when `create`; else checking it is this user's and 0600) and sets `size`.
// Translates failures into mpstate errors (not_found, already_exists,
// permission_denied, segment_full, layout_mismatch).
std::unique_ptr<boost::interprocess::mapped_region> map_shared_memory(const std::string& shm_name, bool create,
                                                                      std::uint64_t& size);
// Removes the name (shm_unlink): mappings stay until unmapped. False when there was
// none (or it could not be removed).
bool remove_shared_memory(const std::string& shm_name) noexcept;
// Checks magic, layout version, header size and recorded size. Throws layout_mismatch.
void check_header(const segment_header& h, std::uint64_t mapped_size, const std::string& what);

}  // namespace mpstate::core
