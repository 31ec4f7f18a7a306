// SPDX-License-Identifier: MIT
// A process as mpstate stores it: pid plus the kernel's start time of that pid,
// so a recycled pid is never taken for the process that owned something.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace mpstate::core {

struct process_identity {
  pid_t pid = 0;
  std::uint64_t start_time = 0;  // field 22 of /proc/<pid>/stat (clock ticks since boot)
};

// The calling process. Cached, and refreshed in a forked child (pthread_atfork),
// so it costs a load, not a syscall: it is on every write's path.
process_identity self_identity();
pid_t self_pid();

// The pid a committed write is stamped with: the installed op_context's for_pid
// (op_context.hpp; the commit is noted in it), else this process. A load and a
// branch on a client's write.
pid_t pid_to_stamp();
// The start time of `pid`, or 0 when no such process exists.
std::uint64_t process_start_time(pid_t pid);
// True while that exact process runs: same pid, same start time, not a zombie.
bool is_alive(const process_identity& who);
// True when the process (or thread) `pid` is stopped: SIGSTOP, Ctrl-Z, a debugger.
bool is_stopped(pid_t pid);

// The supplementary groups of `pid` (Groups of /proc/<pid>/status); empty when gone.
std::vector<gid_t> process_groups(pid_t pid);
// The CPU time (user + system, every thread) `pid` has used so far, at the clock
// tick's resolution (10 ms); -1 ms when no such process exists.
std::chrono::milliseconds process_cpu_time(pid_t pid);
// Resident memory of `pid` in KiB (VmRSS of /proc/<pid>/status), or -1.
long resident_memory_kb(pid_t pid);

// Wall-clock now, in nanoseconds since the epoch.
std::int64_t now_ns();

}  // namespace mpstate::core
