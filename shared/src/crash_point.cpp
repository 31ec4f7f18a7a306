// SPDX-License-Identifier: MIT
#include "mpstate/core/crash_point.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mpstate::core {
namespace {

// Points still to pass before the crash; 0: never crash.
long read_countdown() {
  const char* at = std::getenv("MPSTATE_CRASH_AT");
  return at ? std::strtol(at, nullptr, 10) : 0;
}

}  // namespace

void crash_point(const char* where) noexcept {
  static long countdown = read_countdown();  // the manager's structural paths are single-threaded
  if (countdown <= 0 || --countdown > 0) return;
  char line[160];
  int n = std::snprintf(line, sizeof line, "mpstate: crash point reached: %s\n", where);
  if (n > 0) (void)!::write(STDERR_FILENO, line, static_cast<std::size_t>(std::min(n, 159)));
  ::kill(::getpid(), SIGKILL);
  ::pause();
}

}  // namespace mpstate::core
