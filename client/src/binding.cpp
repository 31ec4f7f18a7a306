// SPDX-License-Identifier: MIT
#include "mpstate/detail/binding.hpp"

#include <pthread.h>
#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_set>
#include <utility>

#include "mpstate/core/binding_ledger.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/error.hpp"

namespace mpstate::detail {
namespace {

// Every binding of this process, so a fork child can bind what it inherits. The
// counts are raised in the parent before fork() returns anywhere (the parent may
// drop its own proxy at once), and the child takes them as its own. The registry's
// mutex is held across fork(), so the child never inherits it locked by another
// thread. A fork that fails leaves the counts raised: those records leak, never
// get freed under a reader.
struct binding_registry {
  std::mutex mutex;
  std::unordered_set<binding*> live;
};

binding_registry& registry() {
  static auto* r = [] {
    auto* made = new binding_registry;  // never destroyed: a fork may come during exit
    pthread_atfork(
        [] {
          registry().mutex.lock();
          for (binding* b : registry().live) b->bind_for_child();
        },
        [] { registry().mutex.unlock(); },
        [] {
          for (binding* b : registry().live) b->bind_in_child();
          registry().mutex.unlock();
        });
    return made;
  }();
  return *r;
}

// Counting a record and listing its binding happen under the registry's lock, so
// a fork() never falls between them (the child would use an uncounted record).
using registry_lock = std::lock_guard<std::mutex>;

}  // namespace

void give_back(client_core& core, core::variable_record* r, const std::string& name) noexcept {
  // The flag first: once this binding is given back, a deleted record may be freed.
  const bool collectable = r->flags.load(std::memory_order_acquire) & core::record_flag_collectable;
  if (core::segment::unbind(r) != 0 || !collectable) return;
  try {  // the last binding anywhere of an unnamed proxy's variable
    core.call({{"op", "collect"}, {"name", name}});
  } catch (...) {
    // the manager is gone or busy: its sweep collects what no process holds
  }
}

void release_bindings_before_exec() noexcept {
  const pid_t me = ::getpid();
  std::lock_guard lock(registry().mutex);
  for (binding* b : registry().live) b->release_in_exec_child(me);
}

void binding::release_in_exec_child(pid_t me) noexcept {
  if (bound_ && bound_by_ == me) {
    core::segment::unbind(bound_);
    bound_by_ = 0;
  }
}

void binding::bind_for_child() {
  if (bound_) core::raise_binding_for_child(*bound_);
}

void binding::bind_in_child() {
  if (!bound_) return;
  bound_by_ = ::getpid();
  core::note_binding_in_child(*bound_);
}

binding::binding(std::shared_ptr<client_core> core, std::string_view name, core::value_type type)
    : core_(std::move(core)), name_(name), type_(type) {
  core::validate_variable_name(name_);
  if (core::segment* s = core_->segment()) {
    registry_lock lock(registry().mutex);
    core::variable_record* found = s->find(name_, /*bind=*/true);
    if (!found) throw error(errc::not_found, "no variable '" + name_ + "'");
    if (found->type != type) {
      core::segment::unbind(found);
      core::throw_type_mismatch(*found, type);
    }
    bound_ = found;
    bound_by_ = getpid();
    record_.store(bound_, std::memory_order_relaxed);
    registry().live.insert(this);
    return;
  }
  nlohmann::json got = remote({{"op", "get"}});
  if (got.at("type") != core::to_string(type)) {
    throw error(errc::type_mismatch, "variable '" + name_ + "' is " + got.at("type").get<std::string>() + ", not " +
                                         std::string(core::to_string(type)));
  }
}

binding::~binding() {
  if (!bound_) return;
  {
    registry_lock lock(registry().mutex);
    registry().live.erase(this);
  }
  if (bound_by_ == getpid()) give_back(*core_, bound_, name_);
}

binding::binding(const binding& other) : core_(other.core_), name_(other.name_), type_(other.type_) {
  registry_lock lock(registry().mutex);
  bound_ = other.record();
  record_.store(bound_, std::memory_order_relaxed);
  bound_by_ = getpid();
  if (!bound_) return;
  core::bind_record(*bound_);
  registry().live.insert(this);
}

binding::binding(binding&& other) noexcept
    : core_(std::move(other.core_)), name_(std::move(other.name_)), type_(other.type_) {
  registry_lock lock(registry().mutex);
  bound_ = std::exchange(other.bound_, nullptr);
  record_.store(other.record_.exchange(nullptr, std::memory_order_relaxed), std::memory_order_relaxed);
  bound_by_ = other.bound_by_;
  if (bound_) {
    registry().live.erase(&other);
    registry().live.insert(this);
  }
}

void binding::throw_holds(const nlohmann::json& value) const {
  throw error(errc::type_mismatch, "variable '" + name_ + "' now holds a JSON " + value.type_name() +
                                       ", not a value of type " + std::string(core::to_string(type_)));
}

nlohmann::json binding::remote(nlohmann::json request, std::uint64_t* session) const {
  request["name"] = name_;
  return core_->call(request, session);
}

// The record first bound stays bound, and each moved record holds its successor, so
// every record on the chain outlives this binding's use of it, from any thread.
void binding::follow() const {
  core::variable_record* current = record();
  if (!current->moved()) return;
  core::variable_record* next = core_->segment()->record_at(current->moved_to.load(std::memory_order_acquire));
  record_.compare_exchange_strong(current, next);  // fails only when another thread followed first
}

void binding::grow(core::growth needed) const {
  nlohmann::json request = {{"op", "grow"}};
  if (needed.bytes) request["capacity"] = needed.bytes;
  if (needed.items) request["items"] = needed.items;
  remote(std::move(request));
  follow();
}

namespace {
// What both kinds of fenced write check first: a fence at all, and for one taken over
// a TCP connection, that the connection it was taken over still stands.
void check_fence(const Fence& fence) {
  if (!fence) throw error(errc::invalid_argument, "an empty Fence: its lock is not held through that proxy");
  const binding* lock = fence.lock_binding();
  if (lock && fence.session() != 0 && fence.session() != lock->client().session()) {
    throw error(errc::ownership_lost, "'" + fence.lock() +
                                          "': the connection this process held it over broke "
                                          "since; the manager ended that lease and freed what it held");
  }
}
}  // namespace

fence_target::fence_target(const binding& value, const Fence& fence) {
  check_fence(fence);
  const binding* lock = fence.lock_binding();
  if (lock && &lock->client() == &value.client() && lock->record()) {
    record_ = lock->record();
    return;
  }
  record_ = value.client().segment()->find(fence.lock(), /*bind=*/true);
  if (!record_) throw error(errc::ownership_lost, "the fence's lock '" + fence.lock() + "' does not exist (deleted?)");
  bound_here_ = true;
}

fence_target::~fence_target() {
  if (bound_here_) core::segment::unbind(record_);
}

nlohmann::json binding::fence_field(const Fence& fence) const {
  check_fence(fence);
  return {{"lock", fence.lock()}, {"epoch", fence.epoch()}};
}

std::uint64_t binding::version() const {
  if (record()) {
    while (record()->moved() && !record()->orphaned()) follow();
    if (record()->flags.load(std::memory_order_acquire) & core::record_flags_unusable) core::throw_unusable(*record());
    return record()->version.load(std::memory_order_acquire);
  }
  return remote({{"op", "get"}}).at("version").get<std::uint64_t>();
}

std::uint64_t binding::wait_for_change(std::uint64_t seen, std::chrono::nanoseconds timeout) const {
  if (record()) {
    while (record()->moved()) follow();
    std::uint64_t v = core::wait_for_change(*record(), seen, timeout);
    while (record()->moved()) follow();  // moved while we slept: the version carried over
    return v;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  return remote({{"op", "wait"}, {"version", seen}, {"timeout_ms", ms}}).at("version").get<std::uint64_t>();
}

}  // namespace mpstate::detail
