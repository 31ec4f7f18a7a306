// SPDX-License-Identifier: MIT
// --op memory: a variable's footprint in the segment, and the manager's resident
// memory idle, with 1,000 connected clients, and after they leave.
#pragma once

#include <nlohmann/json.hpp>

namespace mpstate::bench {

nlohmann::json measure_memory();

}  // namespace mpstate::bench
