// SPDX-License-Identifier: MIT
#include "mpstate/manager/options.hpp"

#include <string>

#include "mpstate/core/names.hpp"
#include "mpstate/error.hpp"

namespace mpstate::manager {

namespace {
void require(bool ok, const std::string& message) {
  if (!ok) throw error(errc::invalid_argument, message);
}
}  // namespace

void options::validate() const {
  core::validate_manager_name(name);
  require(max_connections >= 1, "--max-connections must be at least 1");
  require(max_line >= 1024, "--max-line must be at least 1024 bytes");
  require(idle_timeout.count() >= 0, "--idle-timeout must not be negative");
  require(busy_timeout.count() >= 0, "--busy-timeout must not be negative");
  require(snapshot_interval.count() >= 0, "--snapshot-interval must not be negative");
  require(watch_interval.count() > 0, "the watch interval must be positive");
  require(lease >= std::chrono::seconds(1), "--lease must be at least 1 second");
  // Below the 10 ms clock tick, or an idle loop would never sleep.
  require(busy_poll.count() >= 0 && busy_poll.count() <= 5'000, "--busy-poll must be 0 to 5000 microseconds");
  require(read_only_key.empty() || read_only_key != key, "the read-only key must differ from the key");
  // TCP is served only with a key (a TCP peer has no uid to check, so without one any
  // local user would get past the Unix socket's check).
  require(listen.empty() || !key.empty(), "--listen needs a key: --key-file PATH, $MPSTATE_KEY_FILE or $MPSTATE_KEY");
  require(tls_cert.empty() == tls_key.empty() && (!tls_cert.empty() || tls_ca.empty()),
          "TLS needs both --tls-cert and --tls-key (and --tls-ca only with them)");
}

}  // namespace mpstate::manager
