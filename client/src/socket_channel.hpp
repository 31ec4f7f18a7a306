// SPDX-License-Identifier: MIT
// A blocking line-per-message connection to a manager.
#pragma once

#include <sys/types.h>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace mpstate::detail {

class socket_channel {
 public:
  // Throws error(manager_unavailable) when nothing listens at `path`.
  explicit socket_channel(const std::string& path);
  // Sends `request` (an "id" is added) and returns the whole response object, or
  // nullopt when the request could not be sent at all (the manager went away
  // before it: safe to resend on a new connection). Throws error(manager_unavailable)
  // when the connection breaks after sending (the request may have been applied).
  std::optional<nlohmann::json> round_trip(nlohmann::json request);
  // The process that opened it: a forked child must open its own.
  pid_t owner_pid() const { return owner_pid_; }

 private:
  // After a failed send: when the manager left an error line before closing (it
  // refused this client: permission_denied, too_many_connections), throws it.
  void throw_refusal_if_any();

  boost::asio::io_context io_;
  boost::asio::local::stream_protocol::socket socket_{io_};
  boost::asio::streambuf input_;
  std::uint64_t next_id_ = 1;
  pid_t owner_pid_;
  std::string path_;
};

}  // namespace mpstate::detail
