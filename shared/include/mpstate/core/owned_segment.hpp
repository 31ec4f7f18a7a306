// SPDX-License-Identifier: MIT
// The manager's side of a segment: creating or adopting it, and every structural
// change (create, grow, delete, free, rehash). Only the manager process uses this
// class; it is the only code that allocates in the segment.
//
// Every structural change is all-or-nothing across a SIGKILL at any instruction:
// each has one commit point (a single store), and an adopting manager rebuilds the
// allocator's free lists and the name table from the heap alone (docs/design.md,
// "A manager killed anywhere").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mpstate/core/block_heap.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/segment.hpp"

namespace mpstate::core {

class owned_segment : public segment {
 public:
  // Creates `shm_name` of `size` bytes (pages reserved up front), or adopts an
  // existing one left by a manager that is gone, after checking its header.
  // Sets adopted() accordingly. Throws error(layout_mismatch) for a foreign header
  // (never wipes it), error(segment_full) when the pages cannot be reserved.
  static std::unique_ptr<owned_segment> create_or_adopt(const std::string& shm_name, std::uint64_t size);
  ~owned_segment();

  bool adopted() const { return adopted_; }

  // As segment::find, without the directory lock on the manager's event-loop thread:
  // the manager is the table's only writer, so its own reads need not exclude anyone
  // (a client stopped holding the lock delays none of the manager's lookups). Other
  // threads (whose op_context may wait, or who have none) look up under the lock.
  variable_record* find(std::string_view name, bool bind = false) const override;

  // Fills a new record before anyone can see it (its initial value, sync state or
  // queue ring); may throw buffer_too_small once to ask for a larger buffer.
  using record_init = std::function<void(variable_record&)>;
  // Creates a variable with its zero value (0, false, "", null, idle loop), then
  // `init` on it, and only then publishes the name: no process ever sees a variable
  // half made, and a crash before the publish leaves no trace. capacity 0 means the
  // type's default. Throws already_exists, invalid_name, value_too_large (capacity
  // over the limit), segment_full, or what `init` throws (nothing is created).
  variable_record* create_variable(std::string_view name, value_type type, std::uint64_t capacity = 0,
                                   const record_init& init = {});
  // Moves a string, bytes, json or list variable to a record whose buffer holds at
  // least `needed.bytes` (and at least twice the old), value and version carried
  // over; a queue to a ring of items of `needed.bytes` and, unbounded, of
  // `needed.items` slots. The old record forwards to it (record_flag_moved) and is
  // freed once no process is bound to it. Returns the new record. Throws not_found,
  // type_mismatch (not growable), value_too_large (over 64M) or segment_full.
  variable_record* grow_variable(std::string_view name, growth needed);
  // Marks `name`'s record deleted (the commit point) and removes the name; the
  // record's memory is freed once no proxy is bound to it. Throws not_found.
  void delete_variable(std::string_view name);
  // Removes `name` and every variable under "<name>/" when it is collectable
  // (record_flag_collectable) and no process holds it bound, nor a record it moved
  // from; the check and the delete under the directory lock, which binds take too.
  // Returns the variables removed (0: it stays, or is gone already).
  std::size_t collect_variable(std::string_view name);
  // collect_variable() for the collectable variables whose last holders died: those
  // reclaim_dead_bindings(true) left unheld (no scan of its own: the reclaim's
  // pass over every record finds them).
  std::size_t collect_unbound();
  // Frees deleted records whose proxies have all unbound. Returns how many.
  std::size_t free_unbound_records();
  std::uint64_t variables_collected() const { return collected_; }
  // Gives back the bindings of processes that are gone (binding_ledger.hpp): in the
  // retired records, and with `live_too` in every live one as well (which frees
  // their ledger entries for new processes). Returns how many bindings.
  // The pass over every record is skipped while nothing could have changed since the
  // last one: no ledger entry claimed, and every process it found alive still lives.
  std::uint64_t reclaim_dead_bindings(bool live_too);
  std::uint64_t full_sweeps() const { return full_sweeps_; }  // passes over every record made
  std::uint64_t bindings_reclaimed() const { return bindings_reclaimed_; }
  struct binding_counts {
    std::uint64_t bindings = 0;   // bind_count over live and retired records
    std::uint64_t ledgered = 0;   // of those, noted in ledgers (the rest: unledgered)
    std::uint64_t processes = 0;  // distinct processes in the ledgers
  };
  binding_counts count_bindings() const;
  // fn(record) for every live variable (the active name table), in no order; on the
  // manager's thread (the table's only writer), so no lock and no binding.
  void for_each_variable(const std::function<void(variable_record&)>& fn) const;

  // The live loop and sync variables (the manager watches their owners and holders),
  // kept as they are created and deleted, so watching costs nothing per other variable.
  const std::vector<variable_record*>& watched() const { return watched_; }

  std::uint64_t free_bytes() const;
  std::size_t retired_count() const { return retired_.size(); }
  // Rehashes the name table when deleted slots pass an eighth of it: fills the other
  // table with the live names and switches by one store. Returns whether it did.
  bool compact_directory();
  // What adoption found and repaired (for the log and the crash-point harness).
  struct adoption_report {
    std::size_t live = 0;         // variables
    std::size_t retired = 0;      // deleted or moved records still bound
    std::size_t unpublished = 0;  // records allocated by a create or grow that never committed: freed
    std::size_t completed = 0;    // grows and deletes that had committed but not finished: finished
  };
  const adoption_report& adoption() const { return adoption_; }
  // Sets the header's clock cell to now; the manager calls it every clock_tick_ms.
  void tick_clock();
  // Stamps the header with this process as the manager.
  void claim_for_this_process();
  // Unlinks the segment's name (mapped views stay valid until unmapped).
  void unlink() noexcept;
  // Before unlink() for good: marks the segment ended and every record orphaned, and
  // wakes every sleeper, so processes still mapping it are told (manager_unavailable)
  // at their next op. An adopting manager (one killed between this and unlink())
  // revives it.
  void end_incarnation() noexcept;
  // A new remote session (sessions.hpp), the identity what a TCP connection takes is
  // held under. Throws too_many_connections when every slot is in use.
  process_identity open_session();
  // Ends it: every holder naming it is dead from now on.
  void end_session(const process_identity& session) noexcept;
  // Whether a live process other than this one holds a binding noted in a ledger
  // (an embedded manager whose starter died stays while one does).
  bool bound_by_another_live_process() const;

 private:
  // A reserved heap block, its record zeroed (and its slots, with zero_slots) and
  // filled in: mutex, type, capacity, name. segment_full when full.
  variable_record* allocate_record(std::string_view name, value_type type, std::uint64_t capacity, bool zero_slots);
  owned_segment(std::string shm_name, std::unique_ptr<boost::interprocess::mapped_region> region);
  void format_header(segment_header& h);
  void adopt_heap();
  // Writes `live` into the inactive name table and makes it the active one.
  // Caller holds the directory mutex.
  void rebuild_directory(const std::vector<variable_record*>& live);
  // Returns whether it took a tombstone's place.
  bool insert_name(directory_slot* table, variable_record* r);
  // delete_variable() when `only_if(record)` holds (checked under the directory
  // lock); false when it does not, or there is no such variable.
  bool delete_variable_if(std::string_view name, const std::function<bool(const variable_record&)>& only_if);
  // Whether a pass over every ledger could find a dead process (reclaim_dead_bindings).
  bool ledgers_may_hold_the_dead();
  std::unique_ptr<block_heap> heap_;
  adoption_report adoption_;
  std::vector<variable_record*> retired_;
  std::vector<variable_record*> watched_;
  std::uint64_t bindings_reclaimed_ = 0;
  std::uint64_t claims_at_last_sweep_ = ~std::uint64_t{0};  // none yet: the first one runs
  std::vector<std::uint64_t> binders_at_last_sweep_;        // the live processes it found
  std::uint64_t full_sweeps_ = 0;
  std::uint64_t collected_ = 0;
  std::vector<std::string> left_unheld_;  // names for collect_unbound()
  bool adopted_ = false;
  std::uint32_t next_session_ = 0;  // where open_session() looks first (slots are reused late)
  // fn(record) for every live record (the active name table) and every retired one.
  template <class Fn>
  void for_each_record(Fn&& fn) const;
};

// The smallest segment the manager accepts, and the default.
constexpr std::uint64_t min_segment_size = 256 * 1024;
constexpr std::uint64_t default_segment_size = 64ull << 20;

}  // namespace mpstate::core
