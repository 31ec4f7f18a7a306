// SPDX-License-Identifier: MIT
#include "lease_holder.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "mpstate/error.hpp"

namespace mpstate::manager {

namespace {
std::mutex ended_mutex;
std::vector<pid_t> ended;  // killed, not yet reaped
}  // namespace

// posix_spawn (vfork + exec): no atfork handlers run, so the binding counts a fork
// would raise stay as they are; only the pipe's read end and /dev/null are passed.
core::process_identity lease_holder::identity() {
  if (holder_.pid != 0) return holder_;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw error(errc::system_error, std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  char cat[] = "/bin/cat";
  char* argv[] = {cat, nullptr};
  char* no_environment[] = {nullptr};  // never $MPSTATE_KEY in its /proc/PID/environ
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, cat, &actions, nullptr, argv, no_environment);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    throw error(errc::system_error, std::string("cannot start a lease holder (/bin/cat): ") + std::strerror(rc));
  }
  pipe_end_ = fds[1];
  holder_ = {pid, core::process_start_time(pid)};
  return holder_;
}

void lease_holder::end() {
  if (holder_.pid == 0) return;
  ::kill(holder_.pid, SIGKILL);
  ::close(pipe_end_);
  pipe_end_ = -1;
  std::lock_guard lock(ended_mutex);
  ended.push_back(holder_.pid);
  holder_ = {};
}

void lease_holder::reap_ended() {
  std::lock_guard lock(ended_mutex);
  std::erase_if(ended, [](pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) != 0; });
}

}  // namespace mpstate::manager
