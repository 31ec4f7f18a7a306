// SPDX-License-Identifier: MIT
#include "mpstate/error.hpp"

#include <array>
#include <cstring>
#include <utility>

namespace mpstate {
namespace {

// Kept in the order of the enum; checked by a unit test that round-trips every code.
constexpr std::array<std::string_view, 26> code_names = {"ok",
                                                         "not_found",
                                                         "already_exists",
                                                         "invalid_name",
                                                         "invalid_type",
                                                         "type_mismatch",
                                                         "value_too_large",
                                                         "segment_full",
                                                         "invalid_argument",
                                                         "out_of_range",
                                                         "bad_request",
                                                         "unknown_op",
                                                         "missing_field",
                                                         "line_too_long",
                                                         "permission_denied",
                                                         "too_many_connections",
                                                         "manager_unavailable",
                                                         "manager_running",
                                                         "layout_mismatch",
                                                         "timeout",
                                                         "busy",
                                                         "broken_barrier",
                                                         "lock_unrecoverable",
                                                         "ownership_lost",
                                                         "system_error",
                                                         "internal"};
static_assert(code_names.size() == static_cast<std::size_t>(errc::internal) + 1);

}  // namespace

std::string_view to_string(errc code) noexcept {
  auto index = static_cast<std::size_t>(code);
  return index < code_names.size() ? code_names[index] : "internal";
}

errc errc_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < code_names.size(); ++i) {
    if (code_names[i] == name) return static_cast<errc>(i);
  }
  return errc::internal;
}

error::error(errc code, const std::string& message)
    : std::runtime_error(std::string(to_string(code)) + ": " + message), code_(code), message_(message) {}

void throw_system_error(const std::string& what, int err) {
  throw error(errc::system_error, what + ": " + std::strerror(err));
}

}  // namespace mpstate
