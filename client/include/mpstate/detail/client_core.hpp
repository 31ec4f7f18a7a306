// SPDX-License-Identifier: MIT
// Internal: what a Client and all its proxies share. Not part of the public API.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
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
  client_core(std::string address, std::string manager_name, bool want_local, bool need_local, std::string key = {});
  ~client_core();

  // The mapped segment, or nullptr in socket mode.
  core::segment* segment() const { return segment_.get(); }
  // One request/response over the socket; returns "result", throws mpstate::error.
  // With `session`, also the lease session it was answered in (session()).
  nlohmann::json call(const nlohmann::json& request, std::uint64_t* session = nullptr);
  // Where what this client holds is a lease of its connection (tcp://, tls://), the
  // number of that connection: it changes whenever the connection is replaced (it
  // broke, the manager restarted), and what was acquired under an older number is
  // lost, never reconnected into (sync_handle, LoopState: ownership_lost). Constant
  // where ownership is the process's own (mapped, Unix socket, Redis leases).
  std::uint64_t session() const { return session_.load(std::memory_order_acquire); }
  // The manager's segment incarnation from its hello (16 hex digits; empty for Redis).
  std::string incarnation() const;
  // get, set or add of the variable NAME (OPERAND: set's value, add's delta): what
  // call() answers for that op, as its result's "value" (set: its "version").
  nlohmann::json value_call(value_op op, const std::string& name, const nlohmann::json& operand);
  const std::string& manager_name() const { return manager_name_; }

 private:
  // In a forked child: lets go of the parent's connection (under channel_mutex_).
  void leave_parents_channel();
  // call(), with channel_mutex_ held.
  nlohmann::json call_locked(const nlohmann::json& request, std::uint64_t* session = nullptr);
  // A new channel in channel_ (channel_mutex_ held). After the first: a new lease
  // session where ownership is the connection's, and a hello whose incarnation must be
  // the one this client met first: a manager that came back with a new segment is
  // told to the caller once (manager_unavailable), then served.
  void open_new_channel();
  std::string socket_path_;
  std::string manager_name_;
  std::string key_;
  std::unique_ptr<core::segment> segment_;
  mutable std::mutex channel_mutex_;
  std::shared_ptr<request_channel> channel_;  // shared: a concurrent one is used outside the lock
  bool opened_before_ = false;                // under channel_mutex_
  std::string incarnation_;                   // under channel_mutex_
  std::atomic<std::uint64_t> session_{1};
};

}  // namespace mpstate::detail
