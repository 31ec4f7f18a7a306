// SPDX-License-Identifier: MIT
// The workload and the checks both manager-crash harnesses share (crash points,
// random instructions): a fixed run of 284 structural steps, the state it leaves
// after each, and what an adopting manager must show after a kill in step k.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mpstate/mpstate.hpp"
#include "torture.hpp"

namespace mpstate::torture::crash {

using state = std::map<std::string, nlohmann::json>;  // name -> {type, value}
using step = std::function<void(Client&)>;
// A proxy one step binds and a later one drops; the harness drops it after a kill.
using held_proxy = std::shared_ptr<std::optional<Value<std::string>>>;

// Every variable under the workload's prefix as the dump shows it (a queue's room
// left out: a grow may commit without the put that asked for it).
state state_of(const Client& client);
std::vector<step> workload(const held_proxy& held);
// Starts a manager whose stderr goes to `log`, told to die at crash point
// `crash_at` (0: never).
Manager start_manager(ManagerOptions o, long crash_at, const std::string& log);
std::string read_file(const std::string& path);

// The reference run: after[k] is the state after k steps.
struct reference {
  std::vector<state> after;
  std::uint64_t fresh_free = 0;  // free bytes of a fresh heap
};
reference reference_run(const ManagerOptions& o, const std::vector<step>& steps, const held_proxy& held,
                        const std::string& log, outcome& out);
// Runs steps until one fails (the manager died in it); returns how many were acknowledged.
std::size_t run_until_failure(Manager& m, const std::vector<step>& steps, const held_proxy& held);
// After the manager died in steps[acked]: a new manager adopts; the variables must
// be as after `acked` steps or `acked + 1`; `further` create+delete pairs must work;
// with everything deleted, the heap must be whole. Failures go into `out`.
void check_adoption(const ManagerOptions& o, const reference& ref, std::size_t acked, int further,
                    const std::string& where, const std::string& log, outcome& out);

}  // namespace mpstate::torture::crash
