// SPDX-License-Identifier: MIT
// Internal: a proxy's link to its variable: the bound record (local mode) or the
// name to send with socket requests. Not part of the public API.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/detail/client_core.hpp"
#include "mpstate/fence.hpp"

namespace mpstate::detail {

class binding;

// Gives back a binding of record `r` (named `name`); the last one anywhere of a
// collectable variable (record_flag_collectable) asks the manager to collect it.
void give_back(client_core& core, core::variable_record* r, const std::string& name) noexcept;

// The lock record a Fence names, on the segment of `value` (its proxy's own binding
// when the fence came from one, else looked up and bound for this scope).
class fence_target {
 public:
  fence_target(const binding& value, const Fence& fence);
  ~fence_target();
  fence_target(const fence_target&) = delete;
  fence_target& operator=(const fence_target&) = delete;
  core::variable_record& record() const { return *record_; }

 private:
  core::variable_record* record_ = nullptr;
  bool bound_here_ = false;
};

class binding {
 public:
  // Resolves `name` once and checks its type. Throws not_found, type_mismatch.
  binding(std::shared_ptr<client_core> core, std::string_view name, core::value_type type);
  ~binding();
  binding(const binding& other);
  binding& operator=(const binding&) = delete;
  binding(binding&& other) noexcept;
  binding& operator=(binding&&) = delete;

  const std::string& name() const { return name_; }
  core::value_type type() const { return type_; }
  // The record, or nullptr in socket mode.
  core::variable_record* record() const { return record_.load(std::memory_order_relaxed); }
  client_core& client() const { return *core_; }
  // Sends `request` with "name" added; returns its result. With `session`, also the
  // client's lease session it was answered in (client_core::session). Needs the
  // whole of nlohmann (mpstate/json.hpp); the proxies' templates use the calls below.
  nlohmann::json remote(nlohmann::json request, std::uint64_t* session = nullptr) const;

  // ---- over the wire (nothing mapped). A value goes in and comes out as its
  // element bytes (value_traits<T>::encode / decode) of type `type` (for a sequence,
  // its items' type); the library turns them into the request's JSON and back
  // (core::element_to_json / element_from_json), so the proxies' templates never
  // touch JSON. An answer the type cannot take (the variable was made again with
  // another type) is type_mismatch. `fence`, when given, makes the write fenced
  // (checked as on_record_fenced checks it).
  std::string remote_get(core::value_type type) const;
  void remote_set(core::value_type type, std::string_view value, const Fence* fence = nullptr) const;
  std::string remote_add(core::value_type type, std::string_view delta, const Fence* fence = nullptr) const;
  // The add alone, its answer not read (a Counter's: the add is made whatever the
  // answer says, so nothing may throw after it).
  void remote_add_only(core::value_type type, std::string_view delta) const;
  // On false, `expected` receives the current value.
  bool remote_compare_exchange(core::value_type type, std::string& expected, std::string_view desired,
                               const Fence* fence = nullptr) const;
  std::string remote_item_get(core::value_type type, std::int64_t index) const;
  void remote_item_set(core::value_type type, std::int64_t index, std::string_view value) const;
  std::vector<std::string> remote_items(core::value_type type) const;
  void remote_assign(core::value_type type, const std::vector<std::string>& items) const;
  std::uint64_t remote_append(core::value_type type, const std::vector<std::string>& items) const;
  void remote_insert(core::value_type type, std::int64_t index, std::string_view value) const;
  std::string remote_pop(core::value_type type, std::int64_t index) const;
  // An op that takes nothing but the name (task_done, ...); its result is dropped.
  void remote_op(std::string_view op) const;

  // Runs fn(record) on the bound record; when the manager has moved the value to a
  // larger buffer, follows it and runs fn again; when a value does not fit, asks the
  // manager to grow the buffer (the `grow` op) and runs fn again.
  template <class Fn>
  decltype(auto) on_record(Fn&& fn) const {
    while (true) {
      try {
        return fn(*record());
      } catch (const core::record_moved&) {
        follow();
      } catch (const core::buffer_too_small& e) {
        grow(e.needed());
      }
    }
  }
  // A fenced write on the bound record: runs write(record) while `fence`'s holding
  // lasts (the check and the write one step, core::fenced), following moves and
  // growing as on_record does. Local only. Throws ownership_lost, invalid_argument
  // for an empty fence.
  template <class Write>
  decltype(auto) on_record_fenced(const Fence& fence, Write&& write) const {
    const fence_target lock(*this, fence);
    return on_record([&](core::variable_record& r) {
      return core::fenced(lock.record(), fence.epoch(), r, [&] { return write(r); });
    });
  }
  std::uint64_t version() const;
  std::uint64_t wait_for_change(std::uint64_t seen, std::chrono::nanoseconds timeout) const;

  // Around fork(), for every binding: the parent raises the record's count for the
  // child (bind_for_child, before fork returns anywhere) and the child takes it as
  // its own (bind_in_child), so the parent dropping its proxy, and deleting or
  // growing the variable, never frees a record the child still uses. pthread_atfork.
  void bind_for_child();
  void bind_in_child();
  void release_in_exec_child(pid_t me) noexcept;

 private:
  [[noreturn]] void throw_holds(const nlohmann::json& value) const;
  // The remote answer `value` as element bytes of `type`; throw_holds when it cannot be.
  std::string element_of(core::value_type type, const nlohmann::json& value) const;
  // The request field of a remote fenced write: {"lock", "epoch"}, after the same
  // checks as on_record_fenced makes.
  nlohmann::json fence_field(const Fence& fence) const;
  // Moves on to the record the value moved to.
  void follow() const;
  void grow(core::growth needed) const;

  std::shared_ptr<client_core> core_;
  std::string name_;
  core::value_type type_;
  core::variable_record* bound_ = nullptr;                       // the record bound first, unbound at the end
  mutable std::atomic<core::variable_record*> record_{nullptr};  // the current one
  pid_t bound_by_ = 0;                                           // the process whose bind_count this binding holds
};

// In a fork child about to exec another program: gives back the counts the fork
// raised for it (it will never use those records).
void release_bindings_before_exec() noexcept;

}  // namespace mpstate::detail
