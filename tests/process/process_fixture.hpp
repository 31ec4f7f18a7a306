// SPDX-License-Identifier: MIT
// A real manager process (spawned like an embedded one) and a client of it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "mpstate/json.hpp"
#include "mpstate/mpstate.hpp"
#include "test_support.hpp"

namespace mpstate::test {

struct manager_fixture {
  explicit manager_fixture(std::uint64_t size = 16 << 20);
  // SIGKILL, and reap it: its segment stays behind.
  void kill_manager();
  // Starts a manager of the same name again (it adopts the segment).
  void restart_manager();
  Client new_client(Transport transport = Transport::automatic) const;

  std::string name;
  std::uint64_t size;
  std::optional<Manager> manager;
  std::optional<Client> client;
};

// Sends one request line on a raw connection and returns the parsed reply (fails the
// test when none comes).
nlohmann::json ask(raw_connection& c, const std::string& line);
// A reply's error code, or "ok" for a result.
std::string code_of(const nlohmann::json& reply);

// How long `fn` took.
template <class Fn>
std::chrono::milliseconds time_of(Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

// SIGKILLs a child and reaps it (the test stops unless it died of the signal).
void kill_now(pid_t child);

// A child that runs `take`, says so through a pipe, and waits to be killed.
pid_t child_holding(const std::function<void()>& take);

// Runs a command and returns its exit code and standard output.
struct command_result {
  int exit_code;
  std::string output;
};
command_result run_command(const std::string& command);

}  // namespace mpstate::test
