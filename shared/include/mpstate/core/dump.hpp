// SPDX-License-Identifier: MIT
// What a segment holds, for people and programs. The `dump` op and the
// mpstate-dump tool both come here.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string_view>

#include "mpstate/core/segment.hpp"

namespace mpstate::core {

// {"segment","size","manager_pid","variables":[describe_record(...) ...]} sorted by name.
// Records are bound while read, so a concurrent delete cannot free them under us.
nlohmann::json dump_json(const segment& s, std::string_view prefix = {});

// A table: name, type, version, last writer, age of last write, value (shortened).
void write_dump_table(std::ostream& out, const nlohmann::json& dump);

}  // namespace mpstate::core
