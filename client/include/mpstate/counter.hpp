// SPDX-License-Identifier: MIT
// Counter: an int64 total that many processes add to at once without a lock. Each
// add is one atomic add to the shard (a cache line) of the CPU the caller runs on;
// get() sums the shards (core/counter_ops.hpp says what that promises). For hit
// counts, metrics, work done: anything added to far more often than read, where an
// int64 Value's lock would be the one line every adder bounces.
//
//   mpstate::Counter hits = client.counter("hits");
//   hits.add();            // from any process, on any CPU
//   std::int64_t n = hits.get();
//
// Over a socket, TCP or Redis (nothing mapped), an add is one request (the manager's
// add on the same shards; on Redis, HINCRBY).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mpstate/core/counter_ops.hpp"
#include "mpstate/detail/binding.hpp"
#include "mpstate/value_traits.hpp"

namespace mpstate {

class Counter {
 public:
  Counter(std::shared_ptr<detail::client_core> core, std::string_view name)
      : binding_(std::move(core), name, core::value_type::counter) {}

  const std::string& name() const { return binding_.name(); }

  // Adds `delta` (negative subtracts). A total past the int64 range wraps on a
  // manager's segment; Redis refuses the add (out_of_range).
  void add(std::int64_t delta = 1) {
    if (core::variable_record* r = binding_.record()) [[likely]]
      return core::counter_add(*r, delta);
    binding_.remote_add_only(core::value_type::int64, value_traits<std::int64_t>::encode(delta));
  }
  // The total: every add that returned before this call began is in it.
  std::int64_t get() const {
    if (const core::variable_record* r = binding_.record()) [[likely]]
      return core::counter_value(*r);
    return value_traits<std::int64_t>::decode(binding_.remote_get(core::value_type::int64));
  }

 private:
  detail::binding binding_;
};

}  // namespace mpstate
