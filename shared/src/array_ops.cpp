// SPDX-License-Identifier: MIT
#include "mpstate/core/array_ops.hpp"

#include <cstring>
#include <nlohmann/json.hpp>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {

using nlohmann::json;

constexpr std::size_t head_bytes = 8;  // [u32 element type][u32 reserved]

void require_sequence(const variable_record& r) {
  if (!is_sequence(r.type))
    throw error(errc::type_mismatch, "'" + std::string(r.name_view()) + "' is not an array or list");
}
void require_list(const variable_record& r, const char* op) {
  if (r.type != value_type::list) {
    throw error(errc::type_mismatch, std::string(op) + " needs a list; " + typed_name(r) + " has a fixed size");
  }
}

// The committed bytes' parts; the caller holds the lock.
value_type element_of(const variable_record& r) {
  std::string_view bytes = committed_bytes(r);
  std::uint32_t t = 0;
  if (bytes.size() >= head_bytes) std::memcpy(&t, bytes.data(), sizeof t);
  return static_cast<value_type>(t);
}
std::uint64_t count_of(const variable_record& r) {
  std::string_view bytes = committed_bytes(r);
  return bytes.size() < head_bytes ? 0 : (bytes.size() - head_bytes) / 8;
}
std::uint64_t* items_of(variable_record& r) {
  return reinterpret_cast<std::uint64_t*>(r.slot_data(r.active_slot.load(std::memory_order_relaxed)) + head_bytes);
}

std::uint64_t position(const variable_record& r, std::int64_t index, std::uint64_t count, bool end_ok = false) {
  const std::int64_t n = static_cast<std::int64_t>(count);
  std::int64_t i = index < 0 ? index + n : index;
  if (end_ok && i > n) i = n;  // insert past the end appends, as in Python
  if (end_ok && i < 0) i = 0;
  if (i < 0 || i > n || (!end_ok && i == n)) {
    throw error(errc::out_of_range, "index " + std::to_string(index) + " is out of range for " + typed_name(r) +
                                        " of " + std::to_string(count) + " items");
  }
  return static_cast<std::uint64_t>(i);
}

std::string encode(value_type element, const std::vector<std::uint64_t>& items) {
  std::string bytes(head_bytes + items.size() * 8, '\0');
  const auto t = static_cast<std::uint32_t>(element);
  std::memcpy(bytes.data(), &t, sizeof t);
  if (!items.empty()) std::memcpy(bytes.data() + head_bytes, items.data(), items.size() * 8);
  return bytes;
}

std::vector<std::uint64_t> items_locked(variable_record& r) {
  std::vector<std::uint64_t> out(count_of(r));
  if (!out.empty()) std::memcpy(out.data(), items_of(r), out.size() * 8);
  return out;
}

std::vector<std::uint64_t> items_from_json(std::string_view name, value_type element, const json& items) {
  if (!items.is_array()) throw error(errc::type_mismatch, "the items of '" + std::string(name) + "' are a JSON array");
  std::vector<std::uint64_t> out;
  out.reserve(items.size());
  for (const json& item : items) {
    out.push_back(scalar_bits(element_from_json(name, element, item)));
  }
  return out;
}

}  // namespace

value_type element_type_of(variable_record& r) {
  require_sequence(r);
  locked_record lock(r);
  return element_of(r);
}

std::uint64_t item_count(variable_record& r) {
  require_sequence(r);
  locked_record lock(r);
  return count_of(r);
}

std::uint64_t read_item(variable_record& r, std::int64_t index) {
  require_sequence(r);
  locked_record lock(r);
  return std::atomic_ref<std::uint64_t>(items_of(r)[position(r, index, count_of(r))]).load(std::memory_order_relaxed);
}

void write_item(variable_record& r, std::int64_t index, std::uint64_t bits) {
  require_sequence(r);
  locked_record lock(r);
  // One aligned 8-byte store in the committed slot: never torn.
  std::atomic_ref<std::uint64_t>(items_of(r)[position(r, index, count_of(r))]).store(bits, std::memory_order_release);
  lock.commit();
}

std::vector<std::uint64_t> read_items(variable_record& r) {
  require_sequence(r);
  locked_record lock(r);
  return items_locked(r);
}

void write_items(variable_record& r, const std::vector<std::uint64_t>& items) {
  require_sequence(r);
  locked_record lock(r);
  if (r.type == value_type::array && items.size() != count_of(r)) {
    throw error(errc::invalid_argument, typed_name(r) + " holds " + std::to_string(count_of(r)) + " items, not " +
                                            std::to_string(items.size()));
  }
  write_committed_bytes(r, encode(element_of(r), items));
  lock.commit();
}

std::uint64_t append_items(variable_record& r, const std::vector<std::uint64_t>& items) {
  require_list(r, "append");
  locked_record lock(r);
  std::vector<std::uint64_t> all = items_locked(r);
  all.insert(all.end(), items.begin(), items.end());
  write_committed_bytes(r, encode(element_of(r), all));
  lock.commit();
  return all.size();
}

std::uint64_t insert_item(variable_record& r, std::int64_t index, std::uint64_t bits) {
  require_list(r, "insert");
  locked_record lock(r);
  std::vector<std::uint64_t> all = items_locked(r);
  all.insert(all.begin() + static_cast<std::ptrdiff_t>(position(r, index, all.size(), true)), bits);
  write_committed_bytes(r, encode(element_of(r), all));
  lock.commit();
  return all.size();
}

std::uint64_t pop_item(variable_record& r, std::int64_t index) {
  require_list(r, "pop");
  locked_record lock(r);
  std::vector<std::uint64_t> all = items_locked(r);
  if (all.empty()) throw error(errc::out_of_range, "pop from empty " + typed_name(r));
  const std::uint64_t at = position(r, index, all.size());
  const std::uint64_t bits = all[at];
  all.erase(all.begin() + static_cast<std::ptrdiff_t>(at));
  write_committed_bytes(r, encode(element_of(r), all));
  lock.commit();
  return bits;
}

sequence_spec sequence_spec_from_json(std::string_view name, value_type type, const json& initial) {
  if (!initial.is_object() || !initial.contains("of") || !initial["of"].is_string()) {
    throw error(errc::invalid_argument, std::string(to_string(type)) + " '" + std::string(name) +
                                            "' is created with {\"of\": int64|uint64|double|bool, \"items\": [..]}" +
                                            (type == value_type::array ? " or {\"of\", \"size\": n}" : ""));
  }
  const value_type element = value_type_from_string(initial["of"].get<std::string>());
  if (!is_scalar(element)) {
    throw error(errc::invalid_argument,
                "an array or list holds int64, uint64, double or bool, not " + std::string(to_string(element)));
  }
  std::vector<std::uint64_t> items;
  if (initial.contains("items")) {
    items = items_from_json(name, element, initial["items"]);
  } else if (type == value_type::array) {
    const json& size = initial.value("size", json());
    if (!size.is_number_integer() || size.get<std::int64_t>() < 0 || size.get<std::int64_t>() > (8 << 20)) {
      throw error(errc::invalid_argument, "the size of array '" + std::string(name) + "' must be 0 .. 8388608");
    }
    items.assign(size.get<std::size_t>(), 0);
  }
  sequence_spec spec{encode(element, items), 0};
  spec.capacity = type == value_type::list
                      ? std::max<std::uint64_t>(spec.bytes.size(), head_bytes + std::uint64_t{8} * 16)
                      : spec.bytes.size();
  return spec;
}

void init_sequence(variable_record& r, const json& initial) {
  require_sequence(r);
  write_buffer(r, sequence_spec_from_json(r.name_view(), r.type, initial).bytes);
}

json sequence_to_json(variable_record& r) {
  require_sequence(r);
  value_type element;
  std::vector<std::uint64_t> items;
  {
    locked_record lock(r);
    element = element_of(r);
    items = items_locked(r);
  }
  json out = json::array();
  for (std::uint64_t bits : items) {
    out.push_back(element_to_json(element, scalar_bytes(bits)));
  }
  return {{"of", to_string(element)}, {"items", std::move(out)}};
}

void sequence_from_json(variable_record& r, const json& value) {
  const value_type element = element_type_of(r);
  if (value.is_object() && value.contains("of") && value["of"] != to_string(element)) {
    throw error(errc::type_mismatch, typed_name(r) + " holds " + std::string(to_string(element)));
  }
  write_items(r, items_from_json(r.name_view(), element, value.is_object() ? value.value("items", json()) : value));
}

json item_to_json(variable_record& r, std::uint64_t bits) {
  return element_to_json(element_type_of(r), scalar_bytes(bits));
}

std::uint64_t item_from_json(variable_record& r, const json& value) {
  return items_from_json(r.name_view(), element_type_of(r), json::array({value}))[0];
}

}  // namespace mpstate::core
