// SPDX-License-Identifier: MIT
// Internal: what a Client and all its proxies share. Not part of the public API.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "mpstate/core/segment.hpp"

namespace mpstate::detail {

class request_channel;

// The ops a Value<T> proxy calls most, which a channel may carry out without
// request and response objects (request_channel::value_call).
enum class value_op { get, set, add };

class client_core {
 public:
  // `address`: a Unix socket path, "tcp://HOST:PORT" (then `key` is the key), or a
  // Redis URL ("redis://...": the Redis backend, docs/redis.md).
  client_core(std::string address, std::string manager_name, bool want_local, bool need_local,
              std::string key = {});
  ~client_core();

  // The mapped segment, or nullptr in socket mode.
  core::segment* segment() const { return segment_.get(); }
  // One request/response over the socket; returns "result", throws mpstate::error.
  nlohmann::json call(const nlohmann::json& request);
  // get, set or add of the variable NAME (OPERAND: set's value, add's delta): what
  // call() answers for that op, as its result's "value" (set: its "version").
  nlohmann::json value_call(value_op op, const std::string& name, const nlohmann::json& operand);
  const std::string& manager_name() const { return manager_name_; }

 private:
  // In a forked child: lets go of the parent's connection (under channel_mutex_).
  void leave_parents_channel();
  // call(), with channel_mutex_ held.
  nlohmann::json call_locked(const nlohmann::json& request);
  std::string socket_path_;
  std::string manager_name_;
  std::string key_;
  std::unique_ptr<core::segment> segment_;
  std::mutex channel_mutex_;
  std::unique_ptr<request_channel> channel_;
};

}  // namespace mpstate::detail
