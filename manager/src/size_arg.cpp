// SPDX-License-Identifier: MIT
#include "size_arg.hpp"

#include <charconv>
#include <string>

#include "mpstate/core/protocol.hpp"
#include "mpstate/error.hpp"

namespace mpstate::manager {

std::uint64_t parse_size(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  int shift = -1;
  if (suffix.empty())
    shift = 0;
  else if (suffix == "K" || suffix == "k")
    shift = 10;
  else if (suffix == "M" || suffix == "m")
    shift = 20;
  else if (suffix == "G" || suffix == "g")
    shift = 30;
  if (ec != std::errc() || shift < 0 || end == text.data() || value > (UINT64_MAX >> shift)) {
    throw error(errc::invalid_argument,
                "bad size '" + std::string(text) + "' (bytes, with an optional K, M or G suffix)");
  }
  return value << shift;
}

void print_op_table(std::ostream& out) {
  out << "| op | flags | required | optional | result | what it does |\n|---|---|---|---|---|---|\n";
  for (const auto& op : core::op_table()) {
    std::string flags = op.flags & core::op_reads ? "reads" : "changes";
    if (op.flags & core::op_structural) flags += ", structural";
    if (op.flags & core::op_owns) flags += ", owns";
    if (op.flags & core::op_fenced) flags += ", fenced";
    out << "| `" << op.name << "` | " << flags << " | " << op.required << " | " << op.optional << " | " << op.result
        << " | " << op.summary << " |\n";
  }
}

}  // namespace mpstate::manager
