// SPDX-License-Identifier: MIT
// Every crash point, not by luck: the manager is told (MPSTATE_CRASH_AT=N) to
// SIGKILL itself at the Nth crash point of its structural changes (allocate, free,
// create, grow of every kind, delete, rehash), under a fixed workload of creates,
// grows, deletes and name churn. A new manager adopts the segment, and the harness
// checks: every variable is exactly as after the last acknowledged step, or as after
// the step in flight (all or nothing); then `further` creates and deletes succeed;
// then, with everything deleted, the heap is whole again (no block lost or doubled).
// N walks 1, 1+stride, ... until a manager survives the whole workload.
#include <set>

#include "crash_workload.hpp"

namespace mpstate::torture {

using namespace crash;

outcome crash_point_trials(const settings& s, std::mt19937_64&) {
  outcome out;
  out.fault = "manager SIGKILLed at crash point N, adopted";
  const held_proxy held = std::make_shared<std::optional<Value<std::string>>>();
  const std::vector<step> steps = workload(held);
  const std::string log = "/tmp/mpstate-crash-point-" + std::to_string(::getpid()) + ".log";
  ManagerOptions o;
  o.executable = s.manager_executable;
  o.size = 256 * 1024;  // a 512-slot name table: the churn rehashes it
  o.name = "crashpt-" + std::to_string(::getpid());

  const reference ref = reference_run(o, steps, held, log, out);

  std::set<std::string> points;
  for (long n = 1;; n += std::max(1, s.crash_stride)) {
    std::optional<Manager> m(start_manager(o, n, log));
    const std::size_t acked = run_until_failure(*m, steps, held);
    const std::string said = read_file(log);
    const auto at = said.find("crash point reached: ");
    if (acked == steps.size() && at == std::string::npos) break;  // past the last point
    ++out.trials;
    const std::string point = at == std::string::npos ? "(none)" : said.substr(at + 21, said.find('\n', at) - at - 21);
    points.insert(point);
    m.reset();  // reaps the dead manager
    const std::string where = "N=" + std::to_string(n) + " (" + point + ", step " + std::to_string(acked) + ")";
    check_adoption(o, ref, acked, s.further, where, log, out);
  }
  ::unlink(log.c_str());
  out.notes.push_back(std::to_string(points.size()) + " distinct crash points, " + std::to_string(steps.size()) +
                      " steps, stride " + std::to_string(s.crash_stride));
  if (s.list_points) {
    for (const auto& p : points) out.notes.push_back("  point: " + p);
  }
  return out;
}

}  // namespace mpstate::torture
