// SPDX-License-Identifier: MIT
// Values as JSON: how the socket protocol, the dump tool and snapshots see a record.
// Each function calls the typed operation in record_ops.hpp / loop_ops.hpp, so the
// JSON path and the local proxy path share one implementation.
//
//   int64, uint64, double, bool -> JSON numbers / booleans (NaN and infinities as
//   the strings "NaN", "Infinity", "-Infinity", which JSON numbers cannot say)
//   string -> JSON string; bytes -> base64 string; json -> the JSON itself
//   loop -> loop_to_json(); it is changed only through the loop ops
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "mpstate/core/layout.hpp"

namespace mpstate::core {

using json = nlohmann::json;

// The type `set` gives a new variable for this JSON value: integers -> int64 (or
// uint64 above INT64_MAX), other numbers -> double, booleans -> bool, strings ->
// string, anything else -> json.
value_type type_for_json(const json& value);

json read_json_value(variable_record& r);
// The value as read_json_value() gives it, read without the record's lock (see
// read_buffer_unlocked): string, bytes, json and loop values; nullopt for the other
// types (their state is not one buffer) or a value that kept moving.
std::optional<json> read_json_value_unlocked(const variable_record& r);
// Converts `value` to the record's type (type_mismatch when it cannot, out_of_range
// for an integer that does not fit) and stores it.
void write_json_value(variable_record& r, const json& value);
// Integers, double and counters. Returns the new value (a counter's total).
json add_json_value(variable_record& r, const json& delta);
// {"ok": stored?, "value": the value now}
json compare_exchange_json_value(variable_record& r, const json& expected, const json& desired);

// One item of a queue of type t as bytes: scalars their 8 bytes (as a Value keeps
// them), strings and bytes raw, json as text. Errors name `owner`.
std::string element_from_json(std::string_view owner, value_type t, const json& v);
json element_to_json(value_type t, const std::string& bytes);

// One variable as the dump and the `dump`/`stat` ops show it:
// {"name","type","version","capacity","last_writer_pid","last_write_ns","value"}
json describe_record(variable_record& r);
// The same, with `value` as the record's value (the dump's read without the lock).
json describe_record(const variable_record& r, json value);

// JSON deeper than this is refused (bad_request): parsing is iterative, but
// serialising and destroying nested values recurse, so unbounded depth would let
// one line crash the manager.
constexpr std::size_t max_json_depth = 128;
// Scans JSON text (without parsing it) and throws error(bad_request) when arrays and
// objects nest deeper than max_json_depth.
void check_json_depth(std::string_view text);

// A double as JSON: a number, or "NaN" / "Infinity" / "-Infinity".
json double_to_json(double d);
// The reverse; also takes null as NaN. nullopt for any other JSON value.
std::optional<double> double_from_json(const json& v);

// Strings are UTF-8 text (JSON can carry nothing else); throws
// error(invalid_argument) naming the offset of the first bad byte.
void check_utf8(std::string_view text);

// Text encoding used for json variables (compact dump; invalid UTF-8 replaced).
std::string encode_json_text(const json& value);

std::string base64_encode(std::string_view bytes);
// Throws error(invalid_argument) for malformed input.
std::string base64_decode(std::string_view text);

}  // namespace mpstate::core
