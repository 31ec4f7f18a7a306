// SPDX-License-Identifier: MIT
#include "mpstate/core/layout.hpp"

#include <array>
#include <iterator>
#include <string>

#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {
struct type_name {
  value_type type;
  std::string_view name;
};
#define MPSTATE_TYPE_NAME(name, text, code) type_name{value_type::name, text},
constexpr type_name type_names[] = {MPSTATE_TYPES(MPSTATE_TYPE_NAME)};
#undef MPSTATE_TYPE_NAME
constexpr bool codes_run_from_one() {
  for (std::size_t i = 0; i < std::size(type_names); ++i) {
    if (static_cast<std::size_t>(type_names[i].type) != i + 1) return false;
  }
  return true;
}
static_assert(codes_run_from_one(), "MPSTATE_TYPES: codes 1, 2, 3, ... in order (to_string indexes by code)");
constexpr std::array<std::string_view, 6> phase_names = {"idle",     "starting", "running",
                                                         "stopping", "stopped",  "failed"};
}  // namespace

std::string_view to_string(value_type t) noexcept {
  const auto i = static_cast<std::size_t>(t) - 1;  // a code of 0 wraps to past the end
  return i < std::size(type_names) ? type_names[i].name : "?";
}

value_type value_type_from_string(std::string_view name) {
  for (const type_name& n : type_names) {
    if (n.name == name) return n.type;
  }
  std::string known;
  for (const type_name& n : type_names) known.append(known.empty() ? "" : ", ").append(n.name);
  throw error(errc::invalid_type, "unknown type '" + std::string(name) + "' (" + known + ")");
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
