// SPDX-License-Identifier: MIT
// The manager killed at a random instruction, not only at the named crash points:
// gdb attaches to a running manager with a breakpoint on one of its structural
// functions (create, grow, delete, allocate, free, rehash), lets it run into it
// under the workload of crash_workload.hpp, single-steps a random 1-3,000
// instructions and kills it (SIGKILL). A new manager adopts, and the checks are
// those of the crash-point harness. Needs gdb and ptrace; not run by `make test`.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "crash_workload.hpp"
#include "shared_page.hpp"

namespace mpstate::torture {

using namespace crash;

namespace {

const char* const targets[] = {
    "mpstate::core::owned_segment::create_variable",
    "mpstate::core::owned_segment::grow_variable",
    "mpstate::core::owned_segment::delete_variable",
    "mpstate::core::owned_segment::free_unbound_records",
    "mpstate::core::block_heap::reserve",
    "mpstate::core::block_heap::release",
    "mpstate::core::owned_segment::rebuild_directory",
};

// gdb, attached to `pid`: stops at `target`, steps `steps` instructions, kills it.
pid_t attach_gdb(pid_t pid, const std::string& target, int steps, const std::string& log) {
  const pid_t gdb = ::fork();
  if (gdb != 0) return gdb;
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  const std::string p = std::to_string(pid), brk = "break " + target, step = "stepi " + std::to_string(steps);
  ::execlp("gdb", "gdb", "-q", "-nx", "-batch", "-p", p.c_str(), "-ex", "set pagination off", "-ex", "set confirm off",
           "-ex", brk.c_str(), "-ex", "echo ATTACHED\\n", "-ex", "continue", "-ex", step.c_str(), "-ex",
           "echo KILLING\\n", "-ex", "kill", static_cast<char*>(nullptr));
  ::_exit(127);
}

}  // namespace

outcome random_instruction_trials(const settings& s, std::mt19937_64& rng) {
  outcome out;
  out.fault = "manager SIGKILLed at a random instruction (gdb stepi)";
  const held_proxy held = std::make_shared<std::optional<Value<std::string>>>();
  const std::vector<step> steps = workload(held);
  const std::string log = "/tmp/mpstate-random-instr-" + std::to_string(::getpid()) + ".log";
  const std::string gdb_log = log + ".gdb";
  ManagerOptions o;
  o.executable = s.manager_executable;
  o.size = 256 * 1024;
  o.name = "randinstr-" + std::to_string(::getpid());
  const reference ref = reference_run(o, steps, held, log, out);

  std::uniform_int_distribution<std::size_t> pick(0, std::size(targets) - 1);
  std::uniform_int_distribution<int> instructions(1, 3000);
  int missed = 0;
  for (int trial = 0; trial < s.trials; ++trial) {
    const std::string target = targets[pick(rng)];
    const int n = instructions(rng);
    std::optional<Manager> m(start_manager(o, 0, log));
    const pid_t gdb = attach_gdb(m->pid(), target, n, gdb_log);
    if (!wait_until([&] { return read_file(gdb_log).find("ATTACHED") != std::string::npos; },
                    std::chrono::seconds(30))) {
      throw std::runtime_error("gdb did not attach (is ptrace allowed?): " + read_file(gdb_log));
    }
    // Requests sent before gdb's `continue` wait in the socket: nothing to wait for here.
    const std::size_t acked = run_until_failure(*m, steps, held);
    const bool killed = read_file(gdb_log).find("KILLING") != std::string::npos;
    ::kill(gdb, SIGKILL);  // done, or never stopped (the target was not reached)
    ::waitpid(gdb, nullptr, 0);
    if (!killed || acked == steps.size()) {
      ++missed;
      continue;
    }
    ++out.trials;
    m.reset();
    const std::string where = target + " + " + std::to_string(n) + " instructions, step " + std::to_string(acked);
    check_adoption(o, ref, acked, s.further, where, log, out);
  }
  ::unlink(log.c_str());
  ::unlink(gdb_log.c_str());
  out.notes.push_back(std::to_string(out.trials) + " kills inside the workload, " + std::to_string(missed) +
                      " runs where the target was not reached or the kill came after the last step");
  return out;
}

}  // namespace mpstate::torture
