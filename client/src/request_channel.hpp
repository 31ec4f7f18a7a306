// SPDX-License-Identifier: MIT
// Where a client's requests go when they do not go to a mapped segment: a manager's
// socket (socket_channel.hpp) or Redis (redis_channel.hpp). Both take and answer the
// requests of docs/protocol.md.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mpstate/detail/client_core.hpp"

namespace mpstate::detail {

class request_channel {
 public:
  virtual ~request_channel() = default;
  // The whole response object ({"result"} or {"error"}), or nullopt when the request
  // could not be sent at all (safe to resend on a new channel). Throws
  // error(manager_unavailable) when the connection broke after sending.
  virtual std::optional<nlohmann::json> round_trip(const nlohmann::json& request) = 0;
  // Value<T>'s get, set and add, for a channel that carries the ops out itself
  // (Redis): client_core::value_call's answer, with no request or response object;
  // what the op would answer as an error is thrown as error(code, message).
  // nullopt: not served so, send the op's request.
  virtual std::optional<nlohmann::json> value_call(value_op, const std::string&, const nlohmann::json&) {
    return std::nullopt;
  }
  // The process that opened it: a forked child must open its own.
  virtual pid_t owner_pid() const = 0;
  // True when it may be called from several threads at once and has no connection
  // to replace (Redis: a pool of links); then the client holds no lock around a call.
  virtual bool concurrent() const { return false; }
  // True when what the client holds over it is a lease of this connection (TCP,
  // TLS): replacing it ends the client's lease session (client_core::session).
  virtual bool ownership_is_per_connection() const { return false; }
  // True when it reconnects by itself and holds state of its own (leases): then it
  // is kept after a connection error, not replaced.
  virtual bool outlives_errors() const { return false; }
  // In a forked child, instead of destroying it: let go of what only the parent
  // may touch (threads, their locks) and close the child's copies of its sockets.
  virtual void abandon_in_child() {}
};

}  // namespace mpstate::detail
