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
  const std::string& manager_name() const { return manager_name_; }

 private:
  std::string socket_path_;
  std::string manager_name_;
  std::string key_;
  std::unique_ptr<core::segment> segment_;
  std::mutex channel_mutex_;
  std::unique_ptr<request_channel> channel_;
};

}  // namespace mpstate::detail
