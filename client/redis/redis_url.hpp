// SPDX-License-Identifier: MIT
// The Redis addresses a Client takes (docs/redis.md):
//   redis://[:PASSWORD@]HOST[:PORT][/DB][?prefix=P&lease_ms=N]
//   redis+unix:///PATH/TO/redis.sock[?db=N&prefix=P&lease_ms=N&password=W]
//   redis+cluster://HOST:PORT[,HOST:PORT...][?prefix=P&lease_ms=N&password=W]
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mpstate/core/auth.hpp"

namespace mpstate::detail {

struct redis_url {
  enum class kind { tcp, unix_socket, cluster };
  kind how = kind::tcp;
  std::vector<std::pair<std::string, int>> nodes;  // tcp: one; cluster: the seeds
  std::string path;                                // unix_socket
  int db = 0;                                      // not for a cluster (it has only 0)
  std::string password;
  std::string prefix = "mpstate";         // keys are "PREFIX{NAME}..."
  std::chrono::milliseconds lease{5000};  // what a process holds outlives it this long
  std::string text;                       // as given, the password shown as ***
};

using core::is_redis_url;  // mpstate/core/auth.hpp
// Throws error(invalid_argument) naming what is wrong.
redis_url parse_redis_url(std::string_view address);

}  // namespace mpstate::detail
