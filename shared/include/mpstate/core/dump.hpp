// SPDX-License-Identifier: MIT
// What a segment holds, for people and programs. The `dump` op and the
// mpstate-dump tool both come here.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string_view>

#include "mpstate/core/segment.hpp"

namespace mpstate::core {

// {"segment","size","manager_pid","variables":[describe_record(...) ...]} sorted by name.
// Records are bound while read, so a concurrent delete cannot free them under us.
nlohmann::json dump_json(const segment& s, std::string_view prefix = {});

// One record of s, bound by the caller (segment::list(..., true)), as the dump shows
// it: followed where it moved, never waiting for its lock; nullopt when it was deleted.
std::optional<nlohmann::json> describe_bound(const segment& s, variable_record* r);

// A table: name, type, version, last writer, age of last write, value (shortened).
void write_dump_table(std::ostream& out, const nlohmann::json& dump);

}  // namespace mpstate::core
