// SPDX-License-Identifier: MIT
// A new record's first state, by type, in one place: what the manager's `create`
// and a snapshot's restore each do for every type (the room the record needs, then
// its state from a create's `value` or from the value a snapshot saved). A new type
// adds its case here, not to each caller.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "mpstate/core/layout.hpp"

namespace mpstate::core {

enum class record_origin {
  create,    // a create's `value` (absent: null), as docs/protocol.md gives it per type
  snapshot,  // the value a snapshot saved (the dump's JSON of the record)
};

// The capacity a record of `type` named `name` takes for `initial`: `requested` (a
// create's `capacity`; a snapshot's saved one), or what the type needs when that is
// more. Errors (a bad queue shape, ...) name the variable.
std::uint64_t record_capacity(std::string_view name, value_type type, const nlohmann::json& initial,
                              std::uint64_t requested, record_origin origin);

// Puts the record's first state from `initial`; `has_value` says whether a create
// gave one (a plain value without one stays zero or empty). Runs inside
// owned_segment::create_variable's initialiser: buffer_too_small asks it for a
// larger record.
void initialise_record(variable_record& r, const nlohmann::json& initial, bool has_value, record_origin origin);

}  // namespace mpstate::core
