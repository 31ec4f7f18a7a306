// SPDX-License-Identifier: MIT
// Value<T>: a proxy bound once to a named variable.
//
// Local (segment mapped): every call works on the record directly: no socket, no
// name lookup, and for int64/uint64/double/bool no allocation; get() of a scalar is
// one atomic load. Socket mode: the same calls as protocol requests.
// Any process may call any method. Errors: mpstate::error (not_found once the
// variable is deleted, type_mismatch, value_too_large, out_of_range on overflow).
// A local proxy stays bound to its record: deleted, it answers not_found for good.
// A remote one names the variable: made again, it works on the new one, and answers
// type_mismatch where the new value is not of its type, or not exactly (a uint64 past
// INT64_MAX read as int64, 2.5 read as an integer).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "mpstate/core/record_ops.hpp"
#include "mpstate/detail/binding.hpp"
#include "mpstate/value_traits.hpp"

namespace mpstate {

template <class T>
class Value {
  using traits = value_traits<T>;

 public:
  Value(std::shared_ptr<detail::client_core> core, std::string_view name)
      : binding_(std::move(core), name, traits::type) {}

  const std::string& name() const { return binding_.name(); }

  T get() const {
    if (core::variable_record* r = binding_.record()) [[likely]] {
      if constexpr (traits::scalar) {
        return core::load_scalar<T>(*r);
      } else {
        std::string bytes;
        binding_.on_record([&](core::variable_record& rec) { core::read_buffer(rec, bytes); });
        return traits::decode(std::move(bytes));
      }
    }
    return traits::decode(binding_.remote_get(traits::type));
  }

  void set(const T& value) {
    if (core::variable_record* r = binding_.record()) [[likely]] {
      if constexpr (traits::scalar)
        core::store_scalar<T>(*r, value);
      else
        binding_.on_record([&](core::variable_record& rec) { core::write_buffer(rec, traits::encode(value)); });
      return;
    }
    binding_.remote_set(traits::type, traits::encode(value));
  }

  // Adds `delta` and returns the new value (int64, uint64, double).
  T add(T delta) requires(traits::scalar && !std::is_same_v<T, bool>) {
    if (core::variable_record* r = binding_.record()) [[likely]]
      return core::add_scalar<T>(*r, delta);
    return traits::decode(binding_.remote_add(traits::type, traits::encode(delta)));
  }

  // Stores `desired` if the value equals `expected`; otherwise `expected` receives
  // the current value. Returns whether it stored.
  bool compare_exchange(T& expected, const T& desired) {
    if (core::variable_record* r = binding_.record()) [[likely]] {
      if constexpr (traits::scalar) {
        return core::compare_exchange_scalar<T>(*r, expected, desired);
      } else {
        const std::string wanted(traits::encode(expected));
        std::string current;
        bool ok = binding_.on_record([&](core::variable_record& rec) {
          current = wanted;
          return core::compare_exchange_buffer(rec, current, traits::encode(desired));
        });
        if (!ok) expected = traits::decode(std::move(current));
        return ok;
      }
    }
    return remote_compare_exchange(expected, desired, nullptr);
  }

  // Read-modify-write: stores fn(current) atomically and returns it; if fn throws,
  // nothing changes. A scalar's, and any over the socket, is a compare-exchange
  // loop, so fn may run more than once. A local string/bytes/json value's fn runs
  // once, under the variable's lock (keep it short).
  template <class Fn>
  T update(Fn&& fn) {
    if (core::variable_record* r = binding_.record()) [[likely]] {
      if constexpr (traits::scalar) {
        return core::update_scalar<T>(*r, fn);
      } else {
        std::string stored = binding_.on_record([&](core::variable_record& rec) {
          return core::update_buffer(rec, [&](std::string current) {
            return std::string(traits::encode(fn(traits::decode(std::move(current)))));
          });
        });
        return traits::decode(std::move(stored));
      }
    }
    T current = get();
    while (true) {
      T next = fn(current);
      if (compare_exchange(current, next)) return next;
    }
  }

  // ---- fenced writes (mpstate/fence.hpp): each is made only while `fence`'s
  // holding lasts, and refused with ownership_lost (nothing changed) once it ended.
  void set(const T& value, const Fence& fence) {
    if (binding_.record()) [[likely]] {
      binding_.on_record_fenced(fence, [&](core::variable_record& rec) {
        if constexpr (traits::scalar)
          core::store_scalar<T>(rec, value);
        else
          core::write_buffer(rec, traits::encode(value));
      });
      return;
    }
    binding_.remote_set(traits::type, traits::encode(value), &fence);
  }
  T add(T delta, const Fence& fence) requires(traits::scalar && !std::is_same_v<T, bool>) {
    if (binding_.record()) [[likely]] {
      return binding_.on_record_fenced(fence,
                                       [&](core::variable_record& rec) { return core::add_scalar<T>(rec, delta); });
    }
    return traits::decode(binding_.remote_add(traits::type, traits::encode(delta), &fence));
  }
  bool compare_exchange(T& expected, const T& desired, const Fence& fence) {
    if (binding_.record()) [[likely]] {
      if constexpr (traits::scalar) {
        return binding_.on_record_fenced(fence, [&](core::variable_record& rec) {
          return core::compare_exchange_scalar<T>(rec, expected, desired);
        });
      } else {
        const std::string wanted(traits::encode(expected));
        std::string current;
        bool ok = binding_.on_record_fenced(fence, [&](core::variable_record& rec) {
          current = wanted;
          return core::compare_exchange_buffer(rec, current, traits::encode(desired));
        });
        if (!ok) expected = traits::decode(std::move(current));
        return ok;
      }
    }
    return remote_compare_exchange(expected, desired, &fence);
  }
  // Locally fn runs under the lock's and the variable's locks; remotely it is a
  // fenced compare-exchange loop.
  template <class Fn>
  T update(Fn&& fn, const Fence& fence) {
    if (binding_.record()) [[likely]] {
      if constexpr (traits::scalar) {
        return binding_.on_record_fenced(fence,
                                         [&](core::variable_record& rec) { return core::update_scalar<T>(rec, fn); });
      } else {
        std::string stored = binding_.on_record_fenced(fence, [&](core::variable_record& rec) {
          return core::update_buffer(rec, [&](std::string current) {
            return std::string(traits::encode(fn(traits::decode(std::move(current)))));
          });
        });
        return traits::decode(std::move(stored));
      }
    }
    T current = get();
    while (true) {
      T next = fn(current);
      if (compare_exchange(current, next, fence)) return next;
    }
  }

  // The version: +1 for every committed write.
  std::uint64_t version() const { return binding_.version(); }

  // Blocks until the version differs from `seen` or `timeout` passes; returns the
  // version then (== seen on timeout). Locally it sleeps on a futex: no polling.
  std::uint64_t wait_for_change(std::uint64_t seen, std::chrono::nanoseconds timeout) const {
    return binding_.wait_for_change(seen, timeout);
  }

 private:
  bool remote_compare_exchange(T& expected, const T& desired, const Fence* fence) {
    std::string current(traits::encode(expected));
    const bool ok = binding_.remote_compare_exchange(traits::type, current, traits::encode(desired), fence);
    if (!ok) expected = traits::decode(std::move(current));
    return ok;
  }

  detail::binding binding_;
};

}  // namespace mpstate
