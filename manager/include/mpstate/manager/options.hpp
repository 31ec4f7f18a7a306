// SPDX-License-Identifier: MIT
// Everything a manager can be told at start.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mpstate/core/owned_segment.hpp"
#include "mpstate/core/protocol.hpp"

namespace mpstate::manager {

struct options {
  std::string name;                                     // required: the manager name
  std::uint64_t size = core::default_segment_size;      // segment bytes (ignored on adopt)
  std::string socket_path;                              // empty: <runtime dir>/<name>.sock
  bool keep = false;                                    // leave the segment on a clean exit
  std::vector<uid_t> allowed_uids;                      // besides the manager's own uid
  std::vector<gid_t> allowed_gids;                      // peers with this primary or supplementary group
  std::size_t max_line = core::default_max_line;        // longest request line, bytes
  std::size_t max_connections = 1024;                   // further clients are refused
  std::chrono::milliseconds idle_timeout{600'000};      // close a connection silent this long
                                                        // (0: never); a pending wait is not idle
  std::chrono::milliseconds watch_interval{200};        // loop-owner liveness checks
  std::size_t max_answer_memory = 64u << 20;            // answers held for clients that do not
                                                        // read: past it, large ones are refused
  std::chrono::milliseconds busy_timeout{2'000};        // a request meeting a lock a client holds
                                                        // is retried this long, then answered `busy`
  std::string snapshot_path;                            // non-empty: save values here, and
                                                        // restore them when there is no segment
  std::chrono::milliseconds snapshot_interval{60'000};  // also save this often (0: at exit only)
  int ready_fd = -1;                                    // write "ready\n" here once serving
  // Embedded (mpstate::Manager::start): the process that started this manager. Once
  // it ends (killed, say), the manager stays while any other live process is bound
  // to the segment or connected, and then exits as on SIGTERM; 0: not embedded.
  pid_t starter_pid = 0;
  // TCP (docs/protocol.md, "TCP and the key"): addresses to listen on, HOST:PORT
  // (port 0: any free one; stat's "listening" says which), served only with a key.
  std::vector<std::string> listen;
  // Prometheus's text format on GET http://HOST:PORT/metrics (metrics_endpoint.hpp);
  // empty: off. A non-loopback address needs a key, which scrapers send as a bearer token.
  std::string metrics;
  std::string key;                // the key's bytes (read-write access)
  std::string read_only_key;      // a second key that may only read
  std::chrono::seconds lease{5};  // a silent peer's connection (and what it
                                  // holds) ends after about this long
  std::string tls_cert;           // non-empty: --listen serves TLS with this certificate (chain, PEM)
  std::string tls_key;            // and this private key (PEM)
  std::string tls_ca;             // non-empty: clients must show a certificate this CA signed
  // Keep polling the sockets this long after each piece of work before sleeping
  // (0: sleep at once). Trades CPU for latency: see event_loop.hpp.
  std::chrono::microseconds busy_poll{0};

  // Throws error(invalid_argument) naming the first option that is out of range or
  // inconsistent (as its command-line flag: "--lease must be at least 1 second").
  // The server checks its options with it before it touches anything, so a manager
  // run in-process gets the same checks as mpstate-manager's command line.
  void validate() const;
};

}  // namespace mpstate::manager
