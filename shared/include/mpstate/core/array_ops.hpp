// SPDX-License-Identifier: MIT
// Arrays and lists of scalars: Python's multiprocessing.Array (fixed size) and a
// managed list (grows). The committed bytes of the record are
//   [u32 element type][u32 reserved][item 0 as 8 bytes][item 1] ...
// double-buffered like any buffer: a whole-array write (assign, append, insert,
// pop) fills the other slot and commits by one store. An item write stores 8
// aligned bytes in place, which is one store too. Either way a process killed at
// any point leaves the old or the new value. Everything runs under the record's
// lock; a list that outgrows its buffer throws buffer_too_small (the client asks the
// manager to grow it, as for strings). Indexes may be negative, counted from the
// end as in Python; out of range is error(out_of_range).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "mpstate/core/layout.hpp"

namespace mpstate::core {

constexpr bool is_sequence(value_type t) { return t == value_type::array || t == value_type::list; }

// The element type; value_type::array's records are always initialised at creation.
value_type element_type_of(variable_record& r);
// Items as their 8-byte bits (scalar_codec).
std::uint64_t read_item(variable_record& r, std::int64_t index);
void write_item(variable_record& r, std::int64_t index, std::uint64_t bits);
std::vector<std::uint64_t> read_items(variable_record& r);
// An array keeps its size (invalid_argument for another); a list takes any.
void write_items(variable_record& r, const std::vector<std::uint64_t>& items);
// Lists only (type_mismatch for an array). Return the new size / the item taken.
std::uint64_t append_items(variable_record& r, const std::vector<std::uint64_t>& items);
std::uint64_t insert_item(variable_record& r, std::int64_t index, std::uint64_t bits);
std::uint64_t pop_item(variable_record& r, std::int64_t index);
std::uint64_t item_count(variable_record& r);

// The bytes a new array or list starts with, and the capacity it needs, from a
// create request's value: {"of": scalar type, "items": [..]} or, for an array,
// {"of", "size": n} (zeros). invalid_argument / type_mismatch for bad ones.
struct sequence_spec {
  std::string bytes;
  std::uint64_t capacity = 0;
};
sequence_spec sequence_spec_from_json(std::string_view name, value_type type, const nlohmann::json& initial);
// Writes a new record's first value from such a create value (or a snapshot's).
void init_sequence(variable_record& r, const nlohmann::json& initial);

// {"of", "items": [..]}; the socket's get/dump/snapshot view.
nlohmann::json sequence_to_json(variable_record& r);
// Takes {"items": [..]} (or a bare JSON array) of the record's element type.
void sequence_from_json(variable_record& r, const nlohmann::json& value);
// One item as JSON / from JSON, in the record's element type.
nlohmann::json item_to_json(variable_record& r, std::uint64_t bits);
std::uint64_t item_from_json(variable_record& r, const nlohmann::json& value);

}  // namespace mpstate::core
