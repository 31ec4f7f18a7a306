// SPDX-License-Identifier: MIT
// Dict<T> and Namespace: Python's managed dict and Namespace, as a group of named
// variables under a prefix. Dict<T>("jobs") keeps key "42" in the variable "jobs/42",
// so each key is a typed variable of its own: its own lock (writers of different
// keys never contend), growth, version and wait_for_change, a line in mpstate-dump,
// a place in snapshots, and the same data over the socket with get/set on "jobs/42".
// Why this layout rather than a table of its own: docs/design.md, "Dicts".
//
// A Dict proxy binds each key it touches once and keeps the binding, so get/set of
// a known key costs a hash lookup plus the Value operation (no round trip, no
// directory lookup). A new key is created through the manager (one round trip).
// Keys are single name segments: [A-Za-z0-9_.-], no '/' (invalid_name otherwise).
// A Dict proxy is for one thread at a time (copy it for another thread); a key
// deleted by another process is looked up again on the next use.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mpstate/value.hpp"

namespace mpstate {

namespace detail {
// Lets the key cache be searched with a string_view (no std::string per lookup).
struct key_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
};
// The variable name of `key` in the group `prefix` ("<prefix>/<key>"); invalid_name
// for a key that is not one name segment.
std::string key_name(const std::string& prefix, std::string_view key);
// Creates `name` with `initial` unless it exists; true when this call created it.
// `initial`: the value's element bytes (value_traits<T>::encode).
bool create_if_absent(client_core& core, const std::string& name, core::value_type type, std::string_view initial);
// Deletes `name`; false when it did not exist.
bool remove_if_present(client_core& core, const std::string& name);
// The keys directly under `prefix` ("<prefix>/<key>", not deeper), sorted.
std::vector<std::string> child_keys(client_core& core, const std::string& prefix);
// The type of `name`, or nullopt when it does not exist.
std::optional<core::value_type> variable_type(client_core& core, const std::string& name);
// Whether `name` exists.
inline bool variable_exists(client_core& core, const std::string& name) {
  return variable_type(core, name).has_value();
}
}  // namespace detail

template <class T>
class Dict {
  using traits = value_traits<T>;

 public:
  Dict(std::shared_ptr<detail::client_core> core, std::string_view name) : core_(std::move(core)), name_(name) {
    detail::key_name(name_, "k");  // checks the name
  }
  const std::string& name() const { return name_; }

  // The value of `key`, or nullopt when absent (Python's d.get(key)).
  std::optional<T> find(std::string_view key) const {
    for (int attempt = 0; attempt < 2; ++attempt) {
      Value<T>* v = bound(key);
      if (!v) return std::nullopt;
      try {
        return v->get();
      } catch (const error& e) {
        if (e.code() != errc::not_found) throw;
        forget(key);  // deleted: look it up again (it may be back)
      }
    }
    return std::nullopt;
  }
  // The value of `key`; not_found when absent (Python's d[key]).
  T get(std::string_view key) const {
    if (std::optional<T> v = find(key)) return *std::move(v);
    throw error(errc::not_found, "no key '" + std::string(key) + "' in dict '" + name_ + "'");
  }
  T get_or(std::string_view key, const T& fallback) const { return find(key).value_or(fallback); }

  // Stores `value` under `key`, creating the key when absent (through the manager).
  void set(std::string_view key, const T& value) {
    with_key(key, value, [&](Value<T>& v, bool created) {
      if (!created) v.set(value);
    });
  }
  // Atomic read-modify-write of one key: stores fn(current) (creating the key with
  // `initial` first when absent) and returns it. fn runs under the key's lock.
  template <class Fn>
  T update(std::string_view key, Fn&& fn, const T& initial = T{}) {
    T out{};
    with_key(key, initial, [&](Value<T>& v, bool) { out = v.update(fn); });
    return out;
  }
  // Deletes `key`; false when it was absent.
  bool erase(std::string_view key) {
    forget(key);
    return detail::remove_if_present(*core_, detail::key_name(name_, key));
  }
  bool contains(std::string_view key) const { return detail::variable_exists(*core_, detail::key_name(name_, key)); }
  std::vector<std::string> keys() const { return detail::child_keys(*core_, name_); }
  std::size_t size() const { return keys().size(); }
  // Every key with its value, sorted by key. A key deleted while this runs is left
  // out; it never fails because of a concurrent writer.
  std::vector<std::pair<std::string, T>> items() const {
    std::vector<std::pair<std::string, T>> out;
    for (std::string& key : keys()) {
      if (std::optional<T> v = find(key)) out.emplace_back(std::move(key), *std::move(v));
    }
    return out;
  }
  void clear() {
    for (const std::string& key : keys()) erase(key);
  }

 private:
  // The cached binding of `key`, bound now if it exists; nullptr when absent.
  Value<T>* bound(std::string_view key) const {
    auto it = cache_.find(key);
    if (it != cache_.end()) return &it->second;
    try {
      return &cache_.emplace(std::string(key), Value<T>(core_, detail::key_name(name_, key))).first->second;
    } catch (const error& e) {
      if (e.code() == errc::not_found) return nullptr;
      throw;
    }
  }
  // Runs fn(binding, created) for `key`, creating it with `initial` when absent.
  void with_key(std::string_view key, const T& initial, const std::function<void(Value<T>&, bool)>& fn) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      bool created = false;
      Value<T>* v = bound(key);
      if (!v) {
        created = detail::create_if_absent(*core_, detail::key_name(name_, key), traits::type, traits::encode(initial));
        v = bound(key);
        if (!v) continue;  // deleted again meanwhile
      }
      try {
        return fn(*v, created);
      } catch (const error& e) {
        if (e.code() != errc::not_found) throw;
        forget(key);
      }
    }
    throw error(errc::not_found, "key '" + std::string(key) + "' of dict '" + name_ + "' keeps being deleted");
  }

  void forget(std::string_view key) const {
    if (auto it = cache_.find(key); it != cache_.end()) cache_.erase(it);
  }

  std::shared_ptr<detail::client_core> core_;
  std::string name_;
  mutable std::unordered_map<std::string, Value<T>, detail::key_hash, std::equal_to<>> cache_;
};

// A group of values of any types under one prefix, by attribute name (Python's
// Namespace): ns.set("retries", 3); ns.get<std::int64_t>("retries").
class Namespace {
 public:
  Namespace(std::shared_ptr<detail::client_core> core, std::string_view name);
  const std::string& name() const { return name_; }

  // not_found when absent, type_mismatch when it holds another type.
  template <class T>
  T get(std::string_view attr) const {
    return value<T>(attr).get();
  }
  // Creates the attribute with this type when absent; type_mismatch when it exists
  // with another type.
  template <class T>
  void set(std::string_view attr, const T& v) {
    const std::string full = detail::key_name(name_, attr);
    if (detail::variable_exists(*core_, full) ||  // no round trip for an attribute that exists
        !detail::create_if_absent(*core_, full, value_traits<T>::type, value_traits<T>::encode(v))) {
      Value<T>(core_, full).set(v);
    }
  }
  // A proxy bound to the attribute, for repeated use.
  template <class T>
  Value<T> value(std::string_view attr) const {
    return Value<T>(core_, detail::key_name(name_, attr));
  }
  bool has(std::string_view attr) const;
  bool erase(std::string_view attr);
  std::vector<std::string> names() const;
  // {attr: value} of every attribute, as the dump shows the values. Needs mpstate/json.hpp.
  nlohmann::json to_json() const;

 private:
  std::shared_ptr<detail::client_core> core_;
  std::string name_;
};

}  // namespace mpstate
