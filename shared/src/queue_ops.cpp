// SPDX-License-Identifier: MIT
#include "mpstate/core/queue_ops.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"

namespace mpstate::core {
namespace {

using nlohmann::json;

constexpr std::uint64_t header_bytes = (sizeof(queue_header) + 7) & ~std::uint64_t{7};
constexpr std::uint64_t default_item_size = 256;
constexpr std::uint64_t unbounded_start = 64;  // an unbounded queue's first ring

std::uint64_t entry_stride(std::uint64_t item_size) { return 8 + ((item_size + 7) & ~std::uint64_t{7}); }

queue_header& header_of(variable_record& r) {
  check_type(r, value_type::queue);
  return *reinterpret_cast<queue_header*>(r.slot_data(0));
}

char* entry(variable_record& r, const queue_header& q, std::uint64_t index) {
  return r.slot_data(0) + header_bytes + (index % q.max_items) * entry_stride(q.item_size);
}

// The item at `index` (head <= index < tail); the caller holds the lock.
void read_entry(variable_record& r, const queue_header& q, std::uint64_t index, std::string& out) {
  const char* e = entry(r, q, index);
  std::uint64_t length = 0;
  std::memcpy(&length, e, sizeof length);
  out.assign(e + 8, std::min(length, q.item_size));
}

// The caller holds the lock.
queue_counts counts_of(const queue_header& q) {
  const std::uint64_t head = q.head.load(), tail = q.tail.load();
  return {q.element,   tail - head,     q.unbounded ? 0 : q.max_items, q.item_size, tail - q.done.load(), tail, head,
          q.max_items, q.unbounded != 0};
}

std::uint64_t positive(std::string_view name, const json& v, const char* what, std::uint64_t fallback) {
  if (v.is_null()) {
    if (fallback == 0) throw error(errc::invalid_argument, "queue '" + std::string(name) + "' needs " + what);
    return fallback;
  }
  if (!v.is_number_integer() || v.get<std::int64_t>() <= 0) {
    throw error(errc::invalid_argument,
                std::string(what) + " of queue '" + std::string(name) + "' must be an integer > 0, not " + v.dump());
  }
  return v.get<std::uint64_t>();
}

}  // namespace

queue_spec queue_spec_from_json(std::string_view name, const json& initial) {
  if (!initial.is_object()) {
    throw error(errc::invalid_argument, "queue '" + std::string(name) +
                                            "' is created with {\"of\": type, \"maxsize\": n, \"item_size\": bytes}");
  }
  queue_spec spec;
  if (initial.contains("of")) {
    if (!initial["of"].is_string()) throw error(errc::invalid_argument, "\"of\" names a type, as a string");
    spec.element = value_type_from_string(initial["of"].get<std::string>());
  }
  if (!is_scalar(spec.element) && spec.element != value_type::string && spec.element != value_type::bytes &&
      spec.element != value_type::json) {
    throw error(errc::invalid_argument, "a queue holds int64, uint64, double, bool, string, bytes or json, not " +
                                            std::string(to_string(spec.element)));
  }
  const json& maxsize = initial.value("maxsize", json(0));
  if (maxsize == 0) {
    spec.unbounded = true;
    spec.max_items = unbounded_start;
  } else {
    spec.max_items = positive(name, maxsize, "maxsize", 0);
  }
  if (is_scalar(spec.element)) {
    spec.item_size = 8;
  } else {
    spec.item_size = positive(name, initial.value("item_size", json()), "item_size", default_item_size);
  }
  return spec;
}

std::uint64_t queue_capacity(const queue_spec& spec) {
  const std::uint64_t stride = entry_stride(spec.item_size);
  if (spec.item_size > max_buffer_capacity || spec.max_items > (max_buffer_capacity - header_bytes) / stride) {
    throw error(errc::value_too_large, "a queue of " + std::to_string(spec.max_items) + " items of " +
                                           std::to_string(spec.item_size) + " bytes is over the limit of 64M");
  }
  return header_bytes + spec.max_items * stride;
}

void init_queue(variable_record& r, const queue_spec& spec) {
  locked_record lock(r);
  queue_header& q = header_of(r);
  if (queue_capacity(spec) > r.capacity) throw_too_large(r, queue_capacity(spec));
  q.element = spec.element;
  q.unbounded = spec.unbounded ? 1 : 0;
  q.max_items = spec.max_items;
  q.item_size = spec.item_size;
  lock.commit();
}

std::uint64_t grown_queue_capacity(variable_record& from, std::uint64_t item_size, std::uint64_t slots) {
  const queue_header& q = header_of(from);
  return queue_capacity({q.element, slots, item_size, q.unbounded != 0});
}

void copy_queue(variable_record& from, variable_record& to, std::uint64_t item_size, std::uint64_t slots) {
  queue_header& q = header_of(from);
  auto* n = reinterpret_cast<queue_header*>(to.slot_data(0));
  n->element = q.element;
  n->unbounded = q.unbounded;
  n->max_items = slots;
  n->item_size = item_size;
  const std::uint64_t head = q.head.load(), tail = q.tail.load();
  n->head.store(head);
  n->tail.store(tail);
  n->done.store(q.done.load());
  for (std::uint64_t i = head; i != tail; ++i) {  // each item at its index modulo the new ring
    std::memcpy(entry(to, *n, i), entry(from, q, i), 8 + std::min<std::uint64_t>(q.item_size, item_size));
  }
}

queue_attempt try_put(variable_record& r, std::string_view item) {
  locked_record lock(r);
  queue_header& q = header_of(r);
  if (item.size() > q.item_size) {
    throw buffer_too_small("an item of " + std::to_string(item.size()) + " bytes does not fit " + typed_name(r) +
                               " (item_size " + std::to_string(q.item_size) + ")",
                           growth{item.size(), 0});
  }
  const std::uint64_t tail = q.tail.load(std::memory_order_relaxed);
  if (tail - q.head.load(std::memory_order_relaxed) >= q.max_items) {
    if (!q.unbounded) return {false, r.version.load()};
    throw buffer_too_small("unbounded " + typed_name(r) + " is full at " + std::to_string(q.max_items) + " slots",
                           growth{0, q.max_items * 2});
  }
  char* e = entry(r, q, tail);
  const std::uint64_t length = item.size();
  std::memcpy(e, &length, sizeof length);
  if (!item.empty()) std::memcpy(e + 8, item.data(), item.size());
  q.tail.store(tail + 1, std::memory_order_release);  // the commit
  lock.commit();
  return {true, r.version.load()};
}

queue_attempt try_get(variable_record& r, std::string& out) {
  locked_record lock(r);
  queue_header& q = header_of(r);
  const std::uint64_t head = q.head.load(std::memory_order_relaxed);
  if (head == q.tail.load(std::memory_order_relaxed)) return {false, r.version.load()};
  read_entry(r, q, head, out);
  q.head.store(head + 1, std::memory_order_release);  // the commit
  lock.commit();
  return {true, r.version.load()};
}

std::uint64_t task_done(variable_record& r) {
  locked_record lock(r);
  queue_header& q = header_of(r);
  const std::uint64_t done = q.done.load(std::memory_order_relaxed);
  const std::uint64_t tail = q.tail.load(std::memory_order_relaxed);
  if (done >= tail) {
    throw error(errc::invalid_argument, "task_done() on " + typed_name(r) + " called more times than items were put");
  }
  q.done.store(done + 1, std::memory_order_release);
  lock.commit();
  return tail - done - 1;
}

queue_attempt all_tasks_done(variable_record& r) {
  locked_record lock(r);
  queue_header& q = header_of(r);
  return {q.done.load() == q.tail.load(), r.version.load()};
}

queue_counts read_queue(variable_record& r) {
  locked_record lock(r);
  return counts_of(header_of(r));
}

json queue_to_json(variable_record& r) {
  json items = json::array();
  queue_counts c;
  {
    locked_record lock(r);
    queue_header& q = header_of(r);
    c = counts_of(q);
    std::string bytes;
    for (std::uint64_t i = c.gets; i != c.puts; ++i) {  // head .. tail
      read_entry(r, q, i, bytes);
      items.push_back(element_to_json(q.element, bytes));
    }
  }
  return {{"of", to_string(c.element)},
          {"size", c.size},
          {"maxsize", c.max_items},
          {"slots", c.slots},
          {"item_size", c.item_size},
          {"unfinished", c.unfinished},
          {"puts", c.puts},
          {"gets", c.gets},
          {"items", std::move(items)}};
}

queue_spec queue_spec_from_saved(std::string_view name, const json& saved) {
  queue_spec spec = queue_spec_from_json(
      name, {{"of", saved.at("of")}, {"maxsize", saved.at("maxsize")}, {"item_size", saved.at("item_size")}});
  if (spec.unbounded) spec.max_items = std::max(spec.max_items, std::bit_ceil(saved.at("items").size()));
  return spec;
}

void restore_queue(variable_record& r, const json& saved) {
  const queue_spec spec = queue_spec_from_saved(r.name_view(), saved);
  init_queue(r, spec);
  for (const json& item : saved.at("items")) {
    if (!try_put(r, element_from_json(r.name_view(), spec.element, item)).done) {
      throw error(errc::invalid_argument, "more items than maxsize");
    }
  }
}

}  // namespace mpstate::core
