#include "mpstate/core/process_identity.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace mpstate::core {
namespace {

struct stat_fields {
  char state = 0;
  std::uint64_t start_time = 0;
};

// Reads the state (field 3) and start time (field 22) of /proc/<pid>/stat.
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
  }
  out.start_time = std::strtoull(p, nullptr, 10);
  return true;
}

}  // namespace

std::uint64_t process_start_time(pid_t pid) {
  stat_fields f;
  return read_stat(pid, f) ? f.start_time : 0;
}

process_identity self_identity() {
  static thread_local pid_t cached_pid = 0;
  static thread_local std::uint64_t cached_start = 0;
  pid_t pid = getpid();
  if (pid != cached_pid) {  // first call, or we are a forked child
    cached_pid = pid;
    cached_start = process_start_time(pid);
  }
  return {cached_pid, cached_start};
}

bool is_alive(const process_identity& who) {
  if (who.pid <= 0) return false;
  stat_fields f;
  if (!read_stat(who.pid, f)) return false;
  if (f.state == 'Z' || f.state == 'X') return false;  // dead, not yet reaped
  return who.start_time == 0 || f.start_time == who.start_time;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mpstate::core
