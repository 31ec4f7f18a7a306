// SPDX-License-Identifier: MIT
// Array<T> and List<T> of int64, uint64, double or bool: Python's
// multiprocessing.Array (a fixed size) and a managed list (grows through the
// manager, as a string does). Items are read and written in the segment directly;
// to_vector() / assign() copy the whole sequence under one lock. Indexes may be
// negative (from the end, as in Python); out of range is error(out_of_range).
//
//   auto temps = client.array<double>("sensors/temp", 8);   // 8 zeros when created
//   temps.set(3, 21.5);
//   auto log = client.list_of<std::int64_t>("jobs/done");      // empty when created
//   log.append(42);
//
// Over the socket transport the same calls use item_get / item_set / list_* ops
// and get / set.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mpstate/core/array_ops.hpp"
#include "mpstate/detail/binding.hpp"
#include "mpstate/value_traits.hpp"

namespace mpstate {

template <class T>
class Array {
  using traits = value_traits<T>;
  static_assert(traits::scalar, "arrays and lists hold int64, uint64, double or bool");

 public:
  Array(std::shared_ptr<detail::client_core> core, std::string_view name)
      : Array(std::move(core), name, core::value_type::array) {}
  const std::string& name() const { return binding_.name(); }

  T get(std::int64_t index) const {
    if (binding_.record()) return from_bits(binding_.on_record([&](auto& r) { return core::read_item(r, index); }));
    return traits::decode(binding_.remote_item_get(traits::type, index));
  }
  void set(std::int64_t index, const T& value) {
    if (binding_.record()) return binding_.on_record([&](auto& r) { core::write_item(r, index, to_bits(value)); });
    binding_.remote_item_set(traits::type, index, traits::encode(value));
  }
  std::size_t size() const { return to_vector().size(); }
  // Every item, copied under one lock.
  std::vector<T> to_vector() const {
    std::vector<T> out;
    if (binding_.record()) {
      for (std::uint64_t bits : binding_.on_record([](auto& r) { return core::read_items(r); })) {
        out.push_back(from_bits(bits));
      }
      return out;
    }
    for (const std::string& item : binding_.remote_items(traits::type)) out.push_back(traits::decode(item));
    return out;
  }
  // Replaces every item under one lock (an Array keeps its size: invalid_argument).
  void assign(const std::vector<T>& items) {
    if (binding_.record()) {
      std::vector<std::uint64_t> bits;
      for (const T& v : items) bits.push_back(to_bits(v));
      return binding_.on_record([&](auto& r) { core::write_items(r, bits); });
    }
    binding_.remote_assign(traits::type, encoded(items));
  }
  std::uint64_t version() const { return binding_.version(); }
  std::uint64_t wait_for_change(std::uint64_t seen, std::chrono::nanoseconds timeout) const {
    return binding_.wait_for_change(seen, timeout);
  }

 protected:
  Array(std::shared_ptr<detail::client_core> core, std::string_view name, core::value_type type)
      : binding_(std::move(core), name, type) {
    if (!binding_.record()) return;
    const core::value_type of = binding_.on_record([](auto& r) { return core::element_type_of(r); });
    if (of != traits::type) {
      throw error(errc::type_mismatch, "'" + binding_.name() + "' holds " + std::string(core::to_string(of)) +
                                           ", not " + std::string(traits::type_name));
    }
  }
  static std::uint64_t to_bits(const T& v) { return core::scalar_codec<T>::to_bits(v); }
  static T from_bits(std::uint64_t bits) { return core::scalar_codec<T>::from_bits(bits); }
  static std::vector<std::string> encoded(const std::vector<T>& items) {
    std::vector<std::string> out;
    for (const T& v : items) out.push_back(traits::encode(v));
    return out;
  }

  detail::binding binding_;
};

template <class T>
class List : public Array<T> {
  using traits = value_traits<T>;

 public:
  List(std::shared_ptr<detail::client_core> core, std::string_view name)
      : Array<T>(std::move(core), name, core::value_type::list) {}

  // Appends; returns the new size. The manager grows the list when it is full.
  std::uint64_t append(const T& value) { return extend({value}); }
  std::uint64_t extend(const std::vector<T>& values) {
    if (this->binding_.record()) {
      std::vector<std::uint64_t> bits;
      for (const T& v : values) bits.push_back(this->to_bits(v));
      return this->binding_.on_record([&](auto& r) { return core::append_items(r, bits); });
    }
    return this->binding_.remote_append(traits::type, this->encoded(values));
  }
  // Inserts before `index` (past the end appends, as in Python).
  void insert(std::int64_t index, const T& value) {
    if (this->binding_.record()) {
      return this->binding_.on_record([&](auto& r) { core::insert_item(r, index, this->to_bits(value)); });
    }
    this->binding_.remote_insert(traits::type, index, traits::encode(value));
  }
  // Removes and returns the item at `index` (default the last); out_of_range when empty.
  T pop(std::int64_t index = -1) {
    if (this->binding_.record()) {
      return this->from_bits(this->binding_.on_record([&](auto& r) { return core::pop_item(r, index); }));
    }
    return traits::decode(this->binding_.remote_pop(traits::type, index));
  }
  void clear() { this->assign({}); }
};

}  // namespace mpstate
