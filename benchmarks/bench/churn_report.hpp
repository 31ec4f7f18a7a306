// SPDX-License-Identifier: MIT
// Name-table churn: a lookup miss and create+delete throughput in a fresh table,
// then again after `cycles` create+delete cycles of new names with 100 live
// (mpstate-bench --op churn --cycles N). Tombstones left by deletes lengthen every
// probe until the table is rehashed; the manager rehashes when they pass 1/8.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

namespace mpstate::bench {

nlohmann::json measure_churn(std::uint64_t cycles);

}  // namespace mpstate::bench
