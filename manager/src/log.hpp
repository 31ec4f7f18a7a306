// SPDX-License-Identifier: MIT
// The manager's log (spdlog, on standard error): "<time> <level> mpstate-manager[pid]:
// <message>" on a terminal or in a file; under systemd (JOURNAL_STREAM set), each
// line starts with its syslog priority ("<6>...") and journald adds the time.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace mpstate::manager {

// The logger; made on first use.
spdlog::logger& log();
// debug, info, warning, error or off (--log-level); invalid_argument for another word.
void set_log_level(const std::string& level);

// At most one line a second for a kind of event that a peer can make happen at will
// (a flood of handshakes, failed auths): the rest are counted, and the next line
// says how many were left out.
class log_budget {
 public:
  // True when a line may be written now; `left_out` then gets how many were not.
  bool allow(std::uint64_t& left_out);

 private:
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace mpstate::manager
