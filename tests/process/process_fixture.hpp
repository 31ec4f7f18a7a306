// A real manager process (spawned like an embedded one) and a client of it.
#pragma once

#include <optional>
#include <string>

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

// Runs a command and returns its exit code and standard output.
struct command_result {
  int exit_code;
  std::string output;
};
command_result run_command(const std::string& command);

}  // namespace mpstate::test
