// SPDX-License-Identifier: MIT
// The manager's handlers, indexed by op_code: made from the list of ops
// (core/op_table.hpp), so every op has its handler, in code order, by construction.
#include <array>
#include <nlohmann/json.hpp>

#include "op_handlers.hpp"

namespace mpstate::manager {
namespace {

#define MPSTATE_OP_HANDLER_ADDRESS(name) &ops::name,
constexpr std::array<op_handler, core::op_code_count> handlers = {MPSTATE_OPS(MPSTATE_OP_HANDLER_ADDRESS)};
#undef MPSTATE_OP_HANDLER_ADDRESS

}  // namespace

json dispatch(core::op_code op, op_call& call) { return handlers[core::index_of(op)](call); }

}  // namespace mpstate::manager
