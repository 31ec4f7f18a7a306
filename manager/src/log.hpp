// SPDX-License-Identifier: MIT
// The manager's log (spdlog, on standard error): "<time> <level> mpstate-manager[pid]:
// <message>" on a terminal or in a file; under systemd (JOURNAL_STREAM set), each
// line starts with its syslog priority ("<6>...") and journald adds the time.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace mpstate::manager {

// The logger; made on first use.
spdlog::logger& log();

}  // namespace mpstate::manager
