// SPDX-License-Identifier: MIT
#include "mpstate/core/loop_ops.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sessions.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {

loop_snapshot snapshot_of(const variable_record& r) {
  loop_snapshot s;
  std::memcpy(&s, committed_bytes(r).data(), sizeof s);
  return s;
}

void commit_snapshot(variable_record& r, const loop_snapshot& s) {
  write_committed_bytes(r, std::string_view(reinterpret_cast<const char*>(&s), sizeof s));
}

void require_owner(const variable_record& r, const loop_snapshot& s, const process_identity& who) {
  if (s.owner_pid != who.pid ||
      (s.owner_start_time != 0 && who.start_time != 0 && s.owner_start_time != who.start_time)) {
    throw error(errc::invalid_argument, "process " + std::to_string(who.pid) + " does not own loop '" +
                                            std::string(r.name_view()) + "' (owner: " + std::to_string(s.owner_pid) +
                                            ")");
  }
}

// An op made as the ownership of `epoch`: the loop must still be active under it,
// for `who`. Otherwise the owner lost it, and is told.
void require_epoch(const variable_record& r, const loop_snapshot& s, const process_identity& who,
                   std::optional<std::uint64_t> epoch) {
  if (!epoch) return require_owner(r, s, who);
  const bool same_owner = s.owner_pid == who.pid &&
                          (s.owner_start_time == 0 || who.start_time == 0 || s.owner_start_time == who.start_time);
  if (s.epoch == *epoch && is_active(s.phase) && same_owner) return;
  std::string now = std::string(to_string(s.phase));
  if (s.epoch != *epoch)
    now += " under epoch " + std::to_string(s.epoch) + " of process " + std::to_string(s.owner_pid);
  if (s.reason[0] != '\0') now += " (" + std::string(s.reason) + ")";
  throw error(errc::ownership_lost, "loop '" + std::string(r.name_view()) + "': the ownership with epoch " +
                                        std::to_string(*epoch) + " has ended; the loop is " + now);
}

void set_reason(loop_snapshot& s, std::string_view reason) {
  std::size_t n = std::min(reason.size(), sizeof s.reason - 1);
  if (n > 0) std::memcpy(s.reason, reason.data(), n);  // an empty view may have a null data()
  s.reason[n] = '\0';
}

}  // namespace

loop_snapshot read_loop(variable_record& r) {
  check_type(r, value_type::loop);
  locked_record lock(r);
  return snapshot_of(r);
}

loop_snapshot mark_loop(variable_record& r, loop_phase to, const process_identity& who, std::string_view reason,
                        std::optional<std::uint64_t> epoch) {
  check_type(r, value_type::loop);
  locked_record lock(r);
  loop_snapshot s = snapshot_of(r);
  const std::int64_t now = now_ns();
  switch (to) {
    case loop_phase::starting:
      if (is_active(s.phase) && s.owner_pid != who.pid && holder_alive(r.header(), {s.owner_pid, s.owner_start_time})) {
        throw error(errc::invalid_argument, "loop '" + std::string(r.name_view()) +
                                                "' is already run by live process " + std::to_string(s.owner_pid));
      }
      {
        const std::uint64_t last = s.epoch;
        s = loop_snapshot{};
        s.epoch = next_epoch(last, r.header());
      }
      s.owner_pid = who.pid;
      s.owner_start_time = who.start_time;
      s.started_ns = now;
      break;
    case loop_phase::running:
      require_epoch(r, s, who, epoch);
      if (s.phase != loop_phase::starting && s.phase != loop_phase::running && s.phase != loop_phase::stopping) {
        throw error(errc::invalid_argument, "loop '" + std::string(r.name_view()) + "' is " +
                                                std::string(to_string(s.phase)) + "; mark it starting first");
      }
      if (s.phase == loop_phase::stopping) to = loop_phase::stopping;
      break;
    case loop_phase::stopping:
    case loop_phase::stopped:
    case loop_phase::failed:
      require_epoch(r, s, who, epoch);
      break;
    case loop_phase::idle:
      throw error(errc::invalid_argument, "a loop cannot be marked idle");
  }
  if (s.phase != to) s.changed_ns = now;
  s.phase = to;
  s.heartbeat_ns = now;
  set_reason(s, to == loop_phase::failed ? reason : std::string_view{});
  commit_snapshot(r, s);
  lock.commit();
  return s;
}

loop_snapshot heartbeat_loop(variable_record& r, const process_identity& who, std::uint64_t count,
                             std::optional<std::uint64_t> epoch) {
  check_type(r, value_type::loop);
  locked_record lock(r);
  loop_snapshot s = snapshot_of(r);
  require_epoch(r, s, who, epoch);
  s.iterations += count;
  s.heartbeat_ns = now_ns();
  commit_snapshot(r, s);
  lock.commit();
  return s;
}

loop_phase request_loop_stop(variable_record& r) {
  check_type(r, value_type::loop);
  locked_record lock(r);
  loop_snapshot s = snapshot_of(r);
  if (s.phase != loop_phase::starting && s.phase != loop_phase::running) return s.phase;
  s.phase = loop_phase::stopping;
  s.changed_ns = now_ns();
  commit_snapshot(r, s);
  lock.commit();
  return s.phase;
}

bool fail_loop_if_owner_dead(variable_record& r) {
  if (r.type != value_type::loop) return false;
  locked_record lock(r);
  loop_snapshot s = snapshot_of(r);
  if (!is_active(s.phase) || holder_alive(r.header(), {s.owner_pid, s.owner_start_time})) return false;
  s.phase = loop_phase::failed;
  s.changed_ns = now_ns();
  set_reason(s, is_session({s.owner_pid, s.owner_start_time})
                    ? "owner's TCP session " + std::to_string(-s.owner_pid) +
                          " ended (its connection closed or its machine went silent)"
                    : "owner process " + std::to_string(s.owner_pid) + " died");
  commit_snapshot(r, s);
  lock.commit();
  return true;
}

void restore_loop(variable_record& r, const nlohmann::json& saved) {
  check_type(r, value_type::loop);
  loop_snapshot s{};
  s.phase = loop_phase_from_string(saved.at("state").get<std::string>());
  s.owner_pid = saved.at("pid").get<std::int32_t>();
  s.iterations = saved.at("iterations").get<std::uint64_t>();
  s.started_ns = saved.at("started_ns").get<std::int64_t>();
  s.heartbeat_ns = saved.at("heartbeat_ns").get<std::int64_t>();
  s.epoch = saved.value("epoch", std::uint64_t{0});
  s.changed_ns = now_ns();
  set_reason(s, saved.at("reason").get<std::string>());
  if (is_active(s.phase)) {
    set_reason(s, std::string("was ") + std::string(to_string(s.phase)) + " when the manager last saved it");
    s.phase = loop_phase::failed;
  }
  locked_record lock(r);
  commit_snapshot(r, s);
  lock.commit();
}

nlohmann::json loop_to_json(const loop_snapshot& s) {
  const std::int64_t now = now_ns();
  return {
      {"state", to_string(s.phase)},     {"pid", s.owner_pid},
      {"iterations", s.iterations},      {"started_ns", s.started_ns},
      {"heartbeat_ns", s.heartbeat_ns},  {"heartbeat_age_ms", s.heartbeat_ns ? (now - s.heartbeat_ns) / 1'000'000 : -1},
      {"reason", std::string(s.reason)}, {"epoch", s.epoch}};
}

}  // namespace mpstate::core
