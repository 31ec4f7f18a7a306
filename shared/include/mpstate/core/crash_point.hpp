// SPDX-License-Identifier: MIT
// Crash points: the places inside the manager's structural changes (allocate, free,
// create, grow, delete, rehash) where a SIGKILL is most likely to leave a mixture.
// The crash-point harness (tests/torture) sets MPSTATE_CRASH_AT=N in a manager's
// environment; that manager SIGKILLs itself at the Nth point it passes, after
// writing the point's name to stderr. Without the variable a point costs one
// predictable branch, and only on structural paths (never a proxy's get or set).
#pragma once

namespace mpstate::core {

void crash_point(const char* where) noexcept;

}  // namespace mpstate::core
