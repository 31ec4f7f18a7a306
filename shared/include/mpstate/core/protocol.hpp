// SPDX-License-Identifier: MIT
// The wire protocol: one JSON object per line, over the manager's Unix socket or a
// TCP (TLS) connection, or as Redis scripts (docs/protocol.md).
//   request:  {"id": any JSON, "op": "<name>", ...arguments}
//   response: {"id": same, "result": ...}  or  {"id": same, "error": {"code","message"}}
// The ops themselves are declared once, in op_table.hpp.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "mpstate/core/op_table.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {

using json = nlohmann::json;

constexpr std::uint32_t protocol_version = 1;
// The longest request line an authenticated connection may send (one before
// authentication is at most 4 KiB): a value at the 64 MiB limit fits as JSON text,
// bytes as base64 (4/3) included, so a create or set of any storable value is
// refused value_too_large, never line_too_long. The buffer grows with the line.
constexpr std::size_t default_max_line = 96u << 20;

// op_specs, as a span.
std::span<const op_spec> op_table();
// A segment's incarnation as hello answers it: 16 lower-case hex digits (a JSON
// number would lose bits in clients whose numbers are doubles).
std::string incarnation_text(std::uint64_t incarnation);
// nullptr for an unknown name.
const op_spec* find_op(std::string_view name);

// Field access that reports errors the protocol way.
const json& require_field(const json& request, const char* field);     // missing_field
std::string require_string(const json& request, const char* field);    // + bad_request
std::int64_t require_integer(const json& request, const char* field);  // + bad_request
std::string optional_string(const json& request, const char* field, std::string fallback);
std::int64_t optional_integer(const json& request, const char* field, std::int64_t fallback);

json make_result(const json& id, json result);
json make_error(const json& id, errc code, std::string_view message);
// Serialises a response as one line (invalid UTF-8 replaced, '\n' appended). With
// `exact_id` (from exact_number_id), its "id" is written as those exact bytes.
std::string to_line(const json& message, std::string_view exact_id = {});
// The text of a request's top-level "id" when it is a number that a double does not
// keep exactly (an integer beyond 64 bits, say), so the answer can echo it as
// sent; empty otherwise (the parsed id echoes exactly).
std::string exact_number_id(std::string_view line, const json& parsed_id);

}  // namespace mpstate::core
