// SPDX-License-Identifier: MIT
// Readiness and state for systemd (Type=notify), by the documented notify socket
// protocol (sd_notify(3)): one datagram of "KEY=value" lines to $NOTIFY_SOCKET.
// Does nothing when NOTIFY_SOCKET is unset (not started by systemd).
#pragma once

#include <string_view>

namespace mpstate::manager {

// Sends `state` (e.g. "READY=1\nSTATUS=serving demo"); returns whether it was sent.
bool notify_systemd(std::string_view state) noexcept;

}  // namespace mpstate::manager
