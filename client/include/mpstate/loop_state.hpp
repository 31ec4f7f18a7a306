// SPDX-License-Identifier: MIT
// LoopState: the handle for a loop that runs in one process (the owner) and is
// watched and stopped from others. States: idle -> starting -> running -> stopping
// -> stopped, and failed from any. If the owner dies without marking stopped, its
// loop becomes failed ("owner process N died") within a second (the manager checks,
// and so does every wait_for), so nobody waits on a dead loop forever.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mpstate/core/layout.hpp"
#include "mpstate/detail/binding.hpp"
#include "mpstate/loop_phase.hpp"

namespace mpstate {

struct LoopInfo {
  LoopPhase state = LoopPhase::idle;
  pid_t pid = 0;                                         // the owner
  std::uint64_t iterations = 0;                          // heartbeats counted
  std::chrono::system_clock::time_point started;         // when marked starting
  std::chrono::system_clock::time_point last_heartbeat;  // or last state change
  std::string reason;                                    // why it failed
};

class LoopState {
 public:
  LoopState(std::shared_ptr<detail::client_core> core, std::string_view name);
  const std::string& name() const { return binding_.name(); }

  // ---- the owner (the process running the loop) ----
  // Takes ownership for the calling process, resets the counters and begins a new
  // epoch, which this proxy keeps. Throws invalid_argument while another live process
  // runs it.
  void mark_starting();
  // The transitions and heartbeats below are made as that ownership: once it ended
  // (the loop was failed because this owner was taken for dead, say its TCP
  // connection or Redis lease lapsed, or another `starting` took it over) they throw
  // error(ownership_lost) and change nothing; the loop goes on without this owner.
  void mark_running();
  // Counts `iterations` and stamps the heartbeat.
  void heartbeat(std::uint64_t iterations = 1);
  // True once someone asked the loop to stop.
  bool stop_requested() const { return state() == LoopPhase::stopping; }
  void mark_stopped();
  void mark_failed(std::string_view reason);

  // ---- anyone ----
  LoopPhase state() const { return info().state; }
  LoopInfo info() const;
  // Asks a starting or running loop to stop; returns the state after the call.
  LoopPhase request_stop();
  // Waits until the state is `target` or failed, or `timeout` passes; returns the
  // state then. Sleeps on the variable's futex; never hangs on a dead owner.
  LoopPhase wait_for(LoopPhase target, std::chrono::milliseconds timeout) const;
  std::uint64_t version() const { return binding_.version(); }
  // The epoch of the ownership this proxy took with mark_starting (0: none).
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }

 private:
  void mark(LoopPhase to, std::string_view reason = {});
  // The epoch to make an owner's op as (nullopt: none taken through this proxy);
  // ownership_lost when it was taken over a connection replaced since.
  std::optional<std::uint64_t> owner_epoch() const;
  void keep_epoch(std::uint64_t epoch, std::uint64_t session);
  detail::binding binding_;
  // What this proxy owns: copied proxies own nothing.
  struct epoch_cell : std::atomic<std::uint64_t> {
    epoch_cell() : std::atomic<std::uint64_t>(0) {}
    epoch_cell(const epoch_cell&) : std::atomic<std::uint64_t>(0) {}
  };
  epoch_cell epoch_;
  epoch_cell session_;
};

}  // namespace mpstate
