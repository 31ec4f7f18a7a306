// SPDX-License-Identifier: MIT
#include "mpstate/core/process_identity.hpp"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "mpstate/core/op_context.hpp"

namespace mpstate::core {
namespace {

struct stat_fields {
  char state = 0;
  std::uint64_t cpu_ticks = 0;  // utime + stime
  std::uint64_t start_time = 0;
};

// Reads the state (field 3), CPU time (14 and 15) and start time (22) of /proc/<pid>/stat.
// The command name (field 2) may hold spaces and parentheses, so parse after the last ')'.
bool read_stat(pid_t pid, stat_fields& out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (!f) return false;
  char buf[1024];
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* close = std::strrchr(buf, ')');
  if (!close) return false;
  const char* p = close + 2;  // field 3
  out.state = *p;
  for (int field = 3; field < 22 && *p; ++field) {
    p = std::strchr(p, ' ');
    if (!p) return false;
    ++p;
    if (field == 13 || field == 14) out.cpu_ticks += std::strtoull(p, nullptr, 10);  // now at 14, 15
  }
  out.start_time = std::strtoull(p, nullptr, 10);
  return true;
}

}  // namespace

std::uint64_t process_start_time(pid_t pid) {
  stat_fields f;
  return read_stat(pid, f) ? f.start_time : 0;
}

std::chrono::milliseconds process_cpu_time(pid_t pid) {
  stat_fields f;
  if (!read_stat(pid, f)) return std::chrono::milliseconds(-1);
  return std::chrono::milliseconds(static_cast<std::int64_t>(f.cpu_ticks) * 1000 / ::sysconf(_SC_CLK_TCK));
}

namespace {
// 0 until first use, and again in a forked child until its first use.
std::atomic<pid_t> cached_pid{0};
std::atomic<std::uint64_t> cached_start{0};

pid_t refresh_identity() {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { cached_pid.store(0, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  pid_t pid = getpid();
  cached_start.store(process_start_time(pid), std::memory_order_relaxed);
  cached_pid.store(pid, std::memory_order_relaxed);
  return pid;
}
}  // namespace

pid_t self_pid() {
  pid_t pid = cached_pid.load(std::memory_order_relaxed);
  return pid != 0 ? pid : refresh_identity();
}

pid_t pid_to_stamp() {
  if (op_context* ctx = current_op_context()) [[unlikely]] {
    ctx->committed = true;
    if (ctx->for_pid != 0) return ctx->for_pid;
  }
  pid_t pid = cached_pid.load(std::memory_order_relaxed);
  return pid != 0 ? pid : refresh_identity();
}

process_identity self_identity() {
  pid_t pid = self_pid();
  return {pid, cached_start.load(std::memory_order_relaxed)};
}

bool is_stopped(pid_t pid) {
  stat_fields f;
  return pid > 0 && read_stat(pid, f) && (f.state == 'T' || f.state == 't');
}

bool is_alive(const process_identity& who) {
  if (who.pid <= 0) return false;
  stat_fields f;
  if (!read_stat(who.pid, f)) return false;
  if (f.state == 'Z' || f.state == 'X') return false;  // dead, not yet reaped
  return who.start_time == 0 || f.start_time == who.start_time;
}

namespace {
// The text after "<field>:" on its line of /proc/<pid>/status; nullopt when absent.
std::optional<std::string> status_field(pid_t pid, std::string_view field) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (!f) return std::nullopt;
  std::optional<std::string> value;
  char line[1024];
  while (std::fgets(line, sizeof line, f)) {
    std::string_view l(line);
    if (l.size() > field.size() && l.substr(0, field.size()) == field && l[field.size()] == ':') {
      value = std::string(l.substr(field.size() + 1));
      break;
    }
  }
  std::fclose(f);
  return value;
}
}  // namespace

long resident_memory_kb(pid_t pid) {
  auto text = status_field(pid, "VmRSS");
  long kb = -1;
  if (!text || std::sscanf(text->c_str(), "%ld", &kb) != 1) return -1;
  return kb;
}

std::vector<gid_t> process_groups(pid_t pid) {
  std::vector<gid_t> groups;
  auto text = status_field(pid, "Groups");
  if (!text) return groups;
  std::istringstream in(*text);
  for (unsigned long g; in >> g;) groups.push_back(static_cast<gid_t>(g));
  return groups;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mpstate::core
