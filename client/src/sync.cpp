// SPDX-License-Identifier: MIT
#include "mpstate/sync.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/error.hpp"

namespace mpstate {
namespace detail {
namespace {

using namespace std::chrono;

// Between wake-ups, look for dead holders at least this often.
constexpr milliseconds holder_check{100};

// gettid() is a system call: cache it per thread, and again after a fork (the child's
// thread has another tid; its cached pid tells).
std::int32_t this_thread_id() {
  thread_local pid_t cached_for = -1;
  thread_local std::int32_t tid = 0;
  if (cached_for != core::self_pid()) {
    cached_for = core::self_pid();
    tid = static_cast<std::int32_t>(::gettid());
  }
  return tid;
}

core::sync_actor actor() { return {core::self_identity(), this_thread_id()}; }
// Only an rlock's and a condition's holder is a thread: a lock's is its process.
core::sync_actor actor_for(const core::variable_record& r) {
  return r.type == core::value_type::lock ? core::sync_actor{core::self_identity()} : actor();
}

}  // namespace

sync_handle::sync_handle(std::shared_ptr<client_core> core, std::string_view name, core::value_type type)
    : binding_(std::move(core), name, type) {}

nlohmann::json sync_handle::state() const {
  if (core::variable_record* r = binding_.record()) return core::sync_to_json(*r);
  return binding_.remote({{"op", "get"}}).at("value");
}

AcquireResult sync_handle::try_acquire_once(std::optional<std::uint64_t>* told) const {
  AcquireResult result;
  std::uint64_t session = 0;
  if (core::variable_record* r = binding_.record()) {
    core::acquire_outcome out = core::try_acquire(*r, actor_for(*r));
    result = {out.acquired, out.previous_owner_died, out.fence};
  } else {
    nlohmann::json out = binding_.remote({{"op", "acquire"}, {"tid", this_thread_id()}}, &session);
    result = {out.at("acquired").get<bool>(), out.at("owner_died").get<bool>(), out.value("fence", std::uint64_t{0})};
    if (told && !result.acquired && out.contains("version")) *told = out["version"].get<std::uint64_t>();
  }
  if (result.acquired && result.fence != 0) {
    holding_.session.store(session, std::memory_order_relaxed);
    holding_.epoch.store(result.fence, std::memory_order_release);
  }
  return result;
}

void sync_handle::check_session(std::uint64_t session) const {
  if (session == 0 || session == binding_.client().session()) return;
  throw error(errc::ownership_lost, "'" + name() +
                                        "': the connection this process held it over broke since; "
                                        "the manager ended that lease and freed what it held");
}

void sync_handle::release_once(bool keeps_nothing) const {
  const std::uint64_t epoch = holding_.epoch.load(std::memory_order_acquire);
  // Let go first, by a plain store: another thread's acquisition comes after the
  // release's compare-exchange, so after this store too. A failure that does not
  // end the holding (the manager unreachable, say) puts it back.
  const bool let_go_first = keeps_nothing && epoch != 0;
  if (let_go_first) holding_.epoch.store(0, std::memory_order_relaxed);
  auto forget = [&] {
    if (let_go_first) return;
    std::uint64_t mine = epoch;
    holding_.epoch.compare_exchange_strong(mine, 0);  // unless another thread acquired anew meanwhile
  };
  auto put_back = [&] {
    if (!let_go_first) return;
    std::uint64_t none = 0;
    holding_.epoch.compare_exchange_strong(none, epoch);  // unless another thread acquired anew meanwhile
  };
  std::uint64_t kept = 0;
  try {
    if (epoch != 0) check_session(holding_.session.load(std::memory_order_relaxed));
    std::optional<std::uint64_t> as_owner;
    if (epoch != 0) as_owner = epoch;
    if (core::variable_record* r = binding_.record()) {
      kept = core::release(*r, actor_for(*r), as_owner);
    } else {
      nlohmann::json request = {{"op", "release"}, {"tid", this_thread_id()}};
      if (as_owner) request["epoch"] = *as_owner;
      kept = binding_.remote(std::move(request)).value("kept", std::uint64_t{0});
    }
  } catch (const error& e) {
    if (e.code() == errc::ownership_lost) {
      forget();
    } else {
      put_back();
    }
    throw;
  } catch (...) {
    put_back();
    throw;
  }
  if (kept == 0) forget();
}

Fence sync_handle::fence() const {
  const std::uint64_t epoch = holding_.epoch.load(std::memory_order_acquire);
  if (epoch == 0) return {};
  return Fence(std::make_shared<const binding>(binding_), name(), epoch,
               holding_.session.load(std::memory_order_relaxed));
}

bool sync_handle::evict_dead_holders() const {
  if (core::variable_record* r = binding_.record()) return core::evict_dead_holders(*r);
  return false;  // over the socket, the acquire op and the manager's watcher do it
}

bool sync_handle::block(const std::function<bool()>& try_once, milliseconds timeout) const {
  return block_told([&](std::optional<std::uint64_t>&) { return try_once(); }, timeout, /*may_tell=*/false);
}

bool sync_handle::block_told(const std::function<bool(std::optional<std::uint64_t>&)>& try_once, milliseconds timeout,
                             bool may_tell) const {
  const bool bounded = timeout >= milliseconds::zero();
  std::optional<steady_clock::time_point> deadline;  // read the clock only once a try failed
  bool holders_checked = false;
  const bool read_first = !may_tell || binding_.record();  // mapped, the read is one load
  while (true) {
    std::optional<std::uint64_t> told;
    if (read_first) told = binding_.version();  // before trying: no wake-up is missed
    if (try_once(told)) return true;
    // An answer without the version (a manager before it said one): read after the try;
    // a release in between costs at most one holder_check slice of sleep, never a hang.
    const std::uint64_t seen = told ? *told : binding_.version();
    if (!deadline) deadline = steady_clock::now() + (bounded ? timeout : milliseconds::zero());
    if (!holders_checked) {
      holders_checked = true;
      if (evict_dead_holders()) continue;  // a dead holder's lock or permits came back
    }
    auto slice = duration_cast<nanoseconds>(holder_check);
    if (bounded) {
      auto left = *deadline - steady_clock::now();
      if (left <= nanoseconds::zero()) return false;
      slice = std::min(slice, duration_cast<nanoseconds>(left));
    }
    if (binding_.wait_for_change(seen, slice) == seen) holders_checked = false;  // quiet: look again
  }
}

}  // namespace detail

// ---- Lock, RLock ----
Lock::Lock(std::shared_ptr<detail::client_core> core, std::string_view name)
    : Lock(std::move(core), name, core::value_type::lock) {}
Lock::Lock(std::shared_ptr<detail::client_core> core, std::string_view name, core::value_type type)
    : sync_handle(std::move(core), name, type) {}

AcquireResult Lock::acquire(std::chrono::milliseconds timeout) {
  AcquireResult result;
  // A free lock on the mapped segment: one try, without the waiting machinery.
  if (binding_.record() && (result = try_acquire_once()).acquired) return result;
  block_told([&](std::optional<std::uint64_t>& told) { return (result = try_acquire_once(&told)).acquired; }, timeout);
  return result;
}

// An RLock's release may keep its holding (reentered); a Lock's never does.
void Lock::release() { release_once(/*keeps_nothing=*/binding_.type() == core::value_type::lock); }
bool Lock::locked() const { return state().at("locked").get<bool>(); }

RLock::RLock(std::shared_ptr<detail::client_core> core, std::string_view name)
    : Lock(std::move(core), name, core::value_type::rlock) {}

// ---- Condition ----
Condition::Condition(std::shared_ptr<detail::client_core> core, std::string_view name)
    : Lock(std::move(core), name, core::value_type::condition) {}

bool Condition::wait(std::chrono::milliseconds timeout) {
  core::variable_record* r = binding_.record();
  auto call = [&](const char* op) { return binding_.remote({{"op", op}, {"tid", detail::this_thread_id()}}); };
  const std::uint64_t depth =
      r ? core::begin_condition_wait(*r, detail::actor()) : call("condition_wait").at("depth").get<std::uint64_t>();
  holding_.epoch.store(0, std::memory_order_release);  // the wait gave the lock up; acquire() below takes a new holding
  auto notified = [&] {
    return r ? core::condition_notified(*r, detail::actor()) : call("condition_check").at("notified").get<bool>();
  };
  bool woken = block(notified, timeout);
  if (!woken) {
    woken = r ? core::cancel_condition_wait(*r, detail::actor()) : call("condition_cancel").at("notified").get<bool>();
  }
  reacquired_from_dead_ = acquire().previous_owner_died;
  for (std::uint64_t d = 1; d < depth; ++d) try_acquire_once();  // the owner again: cannot fail
  return woken;
}

bool Condition::wait_for(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const bool bounded = timeout >= std::chrono::milliseconds::zero();
  const auto deadline = std::chrono::steady_clock::now() + (bounded ? timeout : std::chrono::milliseconds::zero());
  while (!predicate()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (bounded && left <= std::chrono::milliseconds::zero()) return predicate();
    wait(bounded ? std::max(left, std::chrono::milliseconds(1)) : forever);
  }
  return true;
}

std::uint64_t Condition::notify(std::uint64_t n) {
  if (core::variable_record* r = binding_.record()) {
    core::evict_dead_holders(*r);  // a dead waiter must not swallow the notification
    return core::notify_condition(*r, detail::actor(), n);
  }
  return binding_.remote({{"op", "notify"}, {"n", n}, {"tid", detail::this_thread_id()}})
      .at("woken")
      .get<std::uint64_t>();
}

// ---- Semaphore, BoundedSemaphore ----
Semaphore::Semaphore(std::shared_ptr<detail::client_core> core, std::string_view name)
    : Semaphore(std::move(core), name, core::value_type::semaphore) {}
Semaphore::Semaphore(std::shared_ptr<detail::client_core> core, std::string_view name, core::value_type type)
    : sync_handle(std::move(core), name, type) {}

bool Semaphore::acquire(std::chrono::milliseconds timeout) {
  return block_told([&](std::optional<std::uint64_t>& told) { return try_acquire_once(&told).acquired; }, timeout);
}
void Semaphore::release() { release_once(); }
std::int64_t Semaphore::value() const { return state().at("value").get<std::int64_t>(); }

BoundedSemaphore::BoundedSemaphore(std::shared_ptr<detail::client_core> core, std::string_view name)
    : Semaphore(std::move(core), name, core::value_type::bounded_semaphore) {}

// ---- Event ----
Event::Event(std::shared_ptr<detail::client_core> core, std::string_view name)
    : sync_handle(std::move(core), name, core::value_type::event) {}

void Event::set() {
  if (core::variable_record* r = binding_.record()) return core::set_event(*r, true);
  binding_.remote({{"op", "event_set"}, {"set", true}});
}
void Event::clear() {
  if (core::variable_record* r = binding_.record()) return core::set_event(*r, false);
  binding_.remote({{"op", "event_set"}, {"set", false}});
}
bool Event::is_set() const {
  if (core::variable_record* r = binding_.record()) return core::sync_value_unlocked(*r) != 0;
  return state().at("set").get<bool>();
}
bool Event::wait(std::chrono::milliseconds timeout) const {
  const nlohmann::json first = state();
  if (first.at("set").get<bool>()) return true;
  const std::uint64_t sets = first.value("sets", std::uint64_t{0});  // a set since then counts, cleared or not
  return block(
      [&] {
        const nlohmann::json now = state();
        return now.at("set").get<bool>() || now.value("sets", std::uint64_t{0}) != sets;
      },
      timeout);
}

// ---- Barrier ----
Barrier::Barrier(std::shared_ptr<detail::client_core> core, std::string_view name)
    : sync_handle(std::move(core), name, core::value_type::barrier) {}

std::int64_t Barrier::wait(std::chrono::milliseconds timeout) { return wait(timeout, {}); }

std::int64_t Barrier::wait(std::chrono::milliseconds timeout, const std::function<void()>& action) {
  core::barrier_ticket ticket;
  core::variable_record* r = binding_.record();
  const bool hold = static_cast<bool>(action);
  auto arrive = [&] {
    if (r) {
      ticket = core::arrive_at_barrier(*r, detail::actor(), hold);
    } else {
      nlohmann::json t = binding_.remote({{"op", "barrier_arrive"}, {"hold", hold}});
      ticket = {t.at("generation").get<std::uint64_t>(), t.at("index").get<std::int64_t>(), t.value("trip", false)};
    }
    return ticket.index >= 0;  // -1: a reset or another party's action is under way; arrive after it
  };
  if (!block(arrive, timeout)) {
    throw error(errc::broken_barrier, "barrier '" + name() + "' was being reset (or tripped) for the whole wait");
  }
  if (ticket.trip) {  // the last party: the action first, then everyone through
    try {
      action();
    } catch (...) {
      abort();
      try {
        trip(ticket);  // leaves the broken barrier
      } catch (const error&) {
      }
      throw;
    }
    trip(ticket);  // broken_barrier when it was aborted or reset meanwhile
    return ticket.index;
  }
  auto passed = [&] {
    if (r) return core::barrier_passed(*r, ticket, detail::actor());
    return binding_.remote({{"op", "barrier_check"}, {"generation", ticket.generation}}).at("passed").get<bool>();
  };
  if (block(passed, timeout)) return ticket.index;
  abort();   // a timed-out wait breaks the barrier for everyone, as in Python
  passed();  // leaves it: throws broken_barrier (unless the last party came meanwhile)
  return ticket.index;
}

void Barrier::trip(const core::barrier_ticket& ticket) {
  if (core::variable_record* r = binding_.record()) return core::trip_barrier(*r, ticket, detail::actor());
  binding_.remote({{"op", "barrier_trip"}, {"generation", ticket.generation}});
}

void Barrier::abort() {
  if (core::variable_record* r = binding_.record()) return core::abort_barrier(*r);
  binding_.remote({{"op", "barrier_abort"}});
}
void Barrier::reset() {
  if (core::variable_record* r = binding_.record()) return core::reset_barrier(*r);
  binding_.remote({{"op", "barrier_reset"}});
}
std::int64_t Barrier::parties() const { return state().at("parties").get<std::int64_t>(); }
std::int64_t Barrier::n_waiting() const { return state().at("waiting").get<std::int64_t>(); }
bool Barrier::broken() const { return state().at("broken").get<bool>(); }

}  // namespace mpstate
