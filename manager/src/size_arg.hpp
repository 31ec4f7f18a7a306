// SPDX-License-Identifier: MIT
// Small command-line helpers of the manager.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>

namespace mpstate::manager {

// "4096", "64K", "16M", "1G" -> bytes. Throws error(invalid_argument).
std::uint64_t parse_size(std::string_view text);
// The op table as a Markdown table (name, required, optional, result, summary).
void print_op_table(std::ostream& out);

}  // namespace mpstate::manager
