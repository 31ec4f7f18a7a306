// SPDX-License-Identifier: MIT
// Helpers shared by the test suites: unique names, real child processes,
// condition waits with deadlines, and a raw socket for protocol-level tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "mpstate/core/owned_segment.hpp"
#include "mpstate/error.hpp"

namespace mpstate::test {

// The uid (and gid) of `nobody` on Debian: another user for the permission tests.
constexpr unsigned nobody = 65534;

using namespace std::chrono_literals;

// A name unique to this process and call: "<prefix>-<pid>-<n>".
std::string unique_name(const std::string& prefix = "t");

// Points MPSTATE_RUNTIME_DIR at a fresh private directory for this test process.
struct runtime_dir_fixture {
  runtime_dir_fixture();
  ~runtime_dir_fixture();
  std::string dir;
};

// Forks a child that runs `body` and exits with its return value (1 when it
// throws); the child never returns into the test framework.
pid_t spawn(const std::function<int()>& body);
// The child's exit code, -signal when a signal ended it, or nullopt at the deadline.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout = 30s);

// The code of the mpstate::error that `fn` throws, or errc::ok when it returns.
template <class Fn>
errc error_of(Fn&& fn) {
  try {
    fn();
    return errc::ok;
  } catch (const error& e) {
    return e.code();
  }
}

// A child (spawn) that runs `op` and exits 0 when it fails with `code`, 1 otherwise.
template <class Fn>
pid_t spawn_failing_with(errc code, Fn op) {
  return spawn([=] { return error_of(op) == code ? 0 : 1; });
}

// Raises this process's open-file limit towards `wanted` (within the hard limit);
// returns the limit now in force.
std::size_t raise_open_file_limit(std::size_t wanted);

// A free TCP port on 127.0.0.1 (bound to port 0, read back, closed).
int free_tcp_port();

// Whether the process sleeps in the kernel (state 'S' in /proc/<pid>/stat): a
// single-threaded child that has announced it is about to wait and sleeps is waiting.
bool process_sleeping(pid_t pid);

// Checks `condition` until it holds or `timeout` passes; returns whether it held.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// A segment owned by the test (the manager's side), unlinked at the end.
struct scratch_segment {
  explicit scratch_segment(std::uint64_t size = 1 << 20);
  ~scratch_segment();
  std::string name;
  std::unique_ptr<core::owned_segment> segment;
};

// A blocking Unix-socket (or "tcp://IPv4:PORT") connection speaking raw lines.
class raw_connection {
 public:
  explicit raw_connection(const std::string& path);
  ~raw_connection();
  void send(const std::string& bytes);
  // Sends all of `bytes` unless the peer stops reading for `timeout`; returns whether all went.
  bool send_for(const std::string& bytes, std::chrono::milliseconds timeout);
  // One line without its '\n'; nullopt on EOF, timeout or error.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 5s);
  // True when the peer closed the connection before the deadline.
  bool closed_by_peer(std::chrono::milliseconds timeout = 5s);
  // Cuts the connection (both directions) while this process lives on.
  void cut();
  // A half-close: sends EOF, and goes on reading.
  void finish_sending();

 private:
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace mpstate::test
