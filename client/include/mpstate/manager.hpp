// SPDX-License-Identifier: MIT
// mpstate::Manager: an embedded manager, for programs that want no daemon.
// start() spawns `mpstate-manager` as a child process and returns once it serves;
// the object's destructor shuts it down (in the process that started it only, so a
// forked child's copy does nothing). If the starting process ends without that (a
// SIGKILL), the manager serves on while any other process is bound to its variables
// or connected, then exits: the state is never taken from processes still using it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mpstate/client.hpp"

namespace mpstate {

struct ManagerOptions {
  std::string name;                     // empty: "mpstate-<pid>-<n>", unique to this process
  std::uint64_t size = 64ull << 20;     // segment bytes
  std::string socket_path;              // empty: <runtime dir>/<name>.sock
  bool keep = false;                    // leave the segment behind on exit
  std::vector<uid_t> allowed_uids;      // other users the manager serves (over the socket)
  std::vector<std::string> extra_args;  // further mpstate-manager options, e.g. {"--idle-timeout", "60"}
  std::string executable;               // empty: $MPSTATE_MANAGER, beside this program,
                                        // the build tree's, then $PATH
  std::chrono::milliseconds start_timeout{5000};
  int log_fd = -1;  // the manager's standard error (its log): this descriptor (a pipe),
                    // made non-blocking for it (a reader that stalls loses lines,
                    // never stalls the manager); -1 or 2: the starter's, as it is
};

class Manager {
 public:
  // Throws error(manager_running) when the name is served already, error(timeout)
  // when the child does not become ready in time, error(system_error) when it cannot
  // be started (the message names the executable tried).
  static Manager start(ManagerOptions options = {});

  Manager(Manager&& other) noexcept;
  Manager& operator=(Manager&&) = delete;
  ~Manager();

  const std::string& name() const { return name_; }
  const std::string& socket_path() const { return socket_path_; }
  pid_t pid() const { return pid_; }
  // A client of this manager.
  Client connect(Transport transport = Transport::automatic) const;
  // Asks the manager to shut down and waits for it (SIGKILL after 5 s; then, unless
  // ManagerOptions::keep or a --snapshot, its segment is ended for every process
  // still mapping it and removed here, with its socket, as it would have).
  void stop();
  // Leaves the manager running for every process that uses it: neither stop() nor
  // the destructor ends it any more. It serves on while any process uses it once
  // this process has ended (as when the starter is killed), then exits.
  void detach() { pid_ = 0; }

 private:
  Manager(std::string name, std::string socket_path, pid_t pid, bool keep, std::vector<std::string> args);
  std::string name_;
  std::string socket_path_;
  pid_t pid_ = -1;
  pid_t started_by_ = -1;
  bool keep_ = false;
  std::vector<std::string> manager_args_;  // ManagerOptions::extra_args
};

}  // namespace mpstate
