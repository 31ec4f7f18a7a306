// SPDX-License-Identifier: MIT
#include "mpstate/loop_state.hpp"

#include <nlohmann/json.hpp>

#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/error.hpp"

namespace mpstate {
namespace {

using namespace std::chrono;

system_clock::time_point from_ns(std::int64_t ns) { return system_clock::time_point(nanoseconds(ns)); }

LoopInfo info_from_snapshot(const core::loop_snapshot& s) {
  return {s.phase, s.owner_pid, s.iterations, from_ns(s.started_ns), from_ns(s.heartbeat_ns), s.reason};
}

LoopInfo info_from_json(const nlohmann::json& j) {
  return {core::loop_phase_from_string(j.at("state").get<std::string>()),
          j.at("pid").get<pid_t>(),
          j.at("iterations").get<std::uint64_t>(),
          from_ns(j.at("started_ns").get<std::int64_t>()),
          from_ns(j.at("heartbeat_ns").get<std::int64_t>()),
          j.at("reason").get<std::string>()};
}

}  // namespace

LoopState::LoopState(std::shared_ptr<detail::client_core> core, std::string_view name)
    : binding_(std::move(core), name, core::value_type::loop) {}

std::optional<std::uint64_t> LoopState::owner_epoch() const {
  const std::uint64_t epoch = epoch_.load(std::memory_order_acquire);
  if (epoch == 0) return std::nullopt;
  const std::uint64_t session = session_.load(std::memory_order_relaxed);
  if (session != 0 && session != binding_.client().session()) {
    throw error(errc::ownership_lost, "loop '" + name() +
                                          "': the connection this process ran it over broke "
                                          "since; the manager ended that lease and failed the loop");
  }
  return epoch;
}

void LoopState::keep_epoch(std::uint64_t epoch, std::uint64_t session) {
  session_.store(session, std::memory_order_relaxed);
  epoch_.store(epoch, std::memory_order_release);
}

void LoopState::mark(LoopPhase to, std::string_view reason) {
  const std::optional<std::uint64_t> epoch = to == LoopPhase::starting ? std::nullopt : owner_epoch();
  if (core::variable_record* r = binding_.record()) {
    const core::loop_snapshot s = core::mark_loop(*r, to, core::self_identity(), reason, epoch);
    if (to == LoopPhase::starting) keep_epoch(s.epoch, 0);
    return;
  }
  nlohmann::json request = {{"op", "loop_mark"}, {"state", core::to_string(to)}, {"reason", reason}};
  if (epoch) request["epoch"] = *epoch;
  std::uint64_t session = 0;
  const nlohmann::json answer = binding_.remote(std::move(request), &session);
  if (to == LoopPhase::starting) keep_epoch(answer.value("epoch", std::uint64_t{0}), session);
}

void LoopState::mark_starting() { mark(LoopPhase::starting); }
void LoopState::mark_running() { mark(LoopPhase::running); }
void LoopState::mark_stopped() { mark(LoopPhase::stopped); }
void LoopState::mark_failed(std::string_view reason) { mark(LoopPhase::failed, reason); }

void LoopState::heartbeat(std::uint64_t iterations) {
  const std::optional<std::uint64_t> epoch = owner_epoch();
  if (core::variable_record* r = binding_.record()) {
    core::heartbeat_loop(*r, core::self_identity(), iterations, epoch);
    return;
  }
  nlohmann::json request = {{"op", "loop_heartbeat"}, {"count", iterations}};
  if (epoch) request["epoch"] = *epoch;
  binding_.remote(std::move(request));
}

LoopInfo LoopState::info() const {
  if (core::variable_record* r = binding_.record()) return info_from_snapshot(core::read_loop(*r));
  return info_from_json(binding_.remote({{"op", "loop_get"}}));
}

LoopPhase LoopState::request_stop() {
  if (core::variable_record* r = binding_.record()) return core::request_loop_stop(*r);
  return core::loop_phase_from_string(binding_.remote({{"op", "loop_request_stop"}}).at("state").get<std::string>());
}

LoopPhase LoopState::wait_for(LoopPhase target, milliseconds timeout) const {
  // Between wake-ups, check the owner ourselves every 100 ms: a dead owner turns the
  // loop failed even when no manager is running.
  constexpr auto owner_check = milliseconds(100);
  const auto deadline = steady_clock::now() + timeout;
  while (true) {
    std::uint64_t seen = binding_.version();
    LoopPhase now = state();
    if (now == target || now == LoopPhase::failed) return now;
    if (core::variable_record* r = binding_.record(); r && core::fail_loop_if_owner_dead(*r)) {
      continue;
    }
    auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) return now;
    binding_.wait_for_change(seen, std::min<steady_clock::duration>(left, owner_check));
  }
}

}  // namespace mpstate
