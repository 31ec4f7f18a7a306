// SPDX-License-Identifier: MIT
// The states of a loop (LoopState): idle -> starting -> running -> stopping ->
// stopped, and failed from any. A public name because users compare and print
// them; the segment stores it as its 32-bit value (core/layout.hpp checks the size).
#pragma once

#include <cstdint>
#include <string_view>

namespace mpstate {

enum class LoopPhase : std::uint32_t { idle = 0, starting, running, stopping, stopped, failed };

// "idle", "starting", "running", "stopping", "stopped", "failed" ("?" for others).
std::string_view to_string(LoopPhase p) noexcept;
// The phase of that name; throws error(invalid_argument) for an unknown one.
LoopPhase loop_phase_from_string(std::string_view name);

}  // namespace mpstate
