// SPDX-License-Identifier: MIT
// The owner of what a TCP client holds. A remote process has no pid and start time
// the manager could check, so a loop, lock, permit or barrier place a TCP
// connection takes is recorded under a process the manager starts for that
// connection: /bin/cat reading a pipe whose other end only the manager holds. When
// the connection ends (closed, cut, its keepalive lapsed) the manager kills it; when
// the manager dies the pipe closes and it exits. Either way the owner is dead, and
// the recovery is the one a local `kill -9` gets: the loop turns failed, the lock is
// freed and its next acquirer told (docs/protocol.md, "Leases").
#pragma once

#include <sys/types.h>

#include "mpstate/core/process_identity.hpp"

namespace mpstate::manager {

class lease_holder {
 public:
  lease_holder() = default;
  ~lease_holder() { end(); }
  lease_holder(const lease_holder&) = delete;
  lease_holder& operator=(const lease_holder&) = delete;

  // The holder, started on the first call. Throws error(system_error).
  core::process_identity identity();
  bool started() const { return holder_.pid != 0; }
  // Ends the lease: the holder is killed (and reaped by reap_ended()).
  void end();

  // Reaps the holders that have exited (the watch loop calls it); never blocks, and
  // never waits for a process that is not a holder.
  static void reap_ended();

 private:
  core::process_identity holder_;
  int pipe_end_ = -1;  // closing it ends the holder even if the kill were lost
};

}  // namespace mpstate::manager
