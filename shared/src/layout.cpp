// SPDX-License-Identifier: MIT
#include "mpstate/core/layout.hpp"

#include <array>
#include <string>

#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {
constexpr std::array<std::string_view, 20> type_names = {"?",
                                                         "int64",
                                                         "uint64",
                                                         "double",
                                                         "bool",
                                                         "string",
                                                         "bytes",
                                                         "json",
                                                         "loop",
                                                         "lock",
                                                         "rlock",
                                                         "semaphore",
                                                         "bounded_semaphore",
                                                         "event",
                                                         "barrier",
                                                         "condition",
                                                         "queue",
                                                         "array",
                                                         "list",
                                                         "counter"};
constexpr std::array<std::string_view, 6> phase_names = {"idle",     "starting", "running",
                                                         "stopping", "stopped",  "failed"};
}  // namespace

std::string_view to_string(value_type t) noexcept {
  auto i = static_cast<std::size_t>(t);
  return i < type_names.size() ? type_names[i] : "?";
}

value_type value_type_from_string(std::string_view name) {
  for (std::size_t i = 1; i < type_names.size(); ++i) {
    if (type_names[i] == name) return static_cast<value_type>(i);
  }
  throw error(errc::invalid_type,
              "unknown type '" + std::string(name) +
                  "' (int64, uint64, double, bool, string, bytes, json, loop, lock, rlock, "
                  "semaphore, bounded_semaphore, event, barrier, condition, queue, array, list, counter)");
}

}  // namespace mpstate::core

namespace mpstate {

std::string_view to_string(LoopPhase p) noexcept {
  auto i = static_cast<std::size_t>(p);
  return i < core::phase_names.size() ? core::phase_names[i] : "?";
}

LoopPhase loop_phase_from_string(std::string_view name) {
  for (std::size_t i = 0; i < core::phase_names.size(); ++i) {
    if (core::phase_names[i] == name) return static_cast<LoopPhase>(i);
  }
  throw error(errc::invalid_argument, "unknown loop state '" + std::string(name) + "'");
}

}  // namespace mpstate
