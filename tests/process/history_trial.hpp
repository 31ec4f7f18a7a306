// SPDX-License-Identifier: MIT
// One history trial (history_checker.hpp): N client processes increment a counter
// under a fenced lock while the harness injects faults, then the recorded history is
// checked. The channel (shared memory, the socket, TCP, TLS, Redis) is the caller's:
// it says how a client process connects, and which faults it can take.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "history_checker.hpp"
#include "mpstate/mpstate.hpp"

namespace mpstate::test::history {

// What the harness and its client processes share (an anonymous shared mapping).
struct control {
  std::atomic<bool> stop{false};
  std::atomic<pid_t> holder{0};  // the client process inside its critical section now, if any
};

struct trial_options {
  int clients = 4;
  std::chrono::milliseconds length{10'000};
  std::chrono::milliseconds fault_every{700};
  // Time a holder spends between its read and its fenced write: the window a fault
  // aimed at the holder falls in.
  std::chrono::milliseconds think{5};
  bool fenced = true;  // false: the same workload with plain writes (to show the checker catches that)
  std::string lock = "h/lock";
  std::string counter = "h/n";
};

// A fault: its name (for the report) and what it does; returns false when it could
// not be made this time (no holder to aim at), and is then not counted.
struct fault {
  std::string name;
  std::function<bool()> inject;
};

struct trial_result {
  report checked;
  std::map<std::string, int> faults;  // made, by name
  std::int64_t final_value = -1;
  std::size_t client_lives = 0;  // processes run (a killed client is replaced)
  std::string summary() const;
};

class trial {
 public:
  // `connect(number)` runs in each client process and gives its client (entering a
  // network namespace first, say). `final_value` reads the counter after the trial (a
  // client of the harness's own), retrying while the channel recovers; -1 skips
  // check 2 (a trial in which the store may lose its data).
  trial(trial_options options, std::function<Client(int)> connect, std::function<std::int64_t()> final_value);
  ~trial();
  trial(const trial&) = delete;
  trial& operator=(const trial&) = delete;

  // Faults the harness may aim at the clients (SIGKILL, SIGSTOP of the holder).
  fault kill_holder();
  fault stop_holder(std::chrono::milliseconds for_how_long);
  // Any other fault, e.g. a partition: `inject` runs while the clients go on.
  static fault named(std::string name, std::function<bool()> inject) { return {std::move(name), std::move(inject)}; }
  // The number of the client in its critical section now, or -1; waits up to 2 s for
  // one whose number `wanted` accepts (a fault aimed at the clients behind a link).
  int holder_number(const std::function<bool(int)>& wanted) const;

  // Runs the clients for the trial's length, one fault after another (round robin)
  // every fault_every, then stops them, reads the history and checks it.
  trial_result run(const std::vector<fault>& faults);

 private:
  pid_t start_client(int number);
  pid_t current_holder() const;
  int number_of(pid_t pid) const;
  int client_main(int number);
  void stop_clients();

  trial_options options_;
  std::function<Client(int)> connect_;
  std::function<std::int64_t()> final_value_;
  control* control_ = nullptr;
  std::string dir_;
  std::vector<pid_t> clients_;
  std::size_t lives_ = 0;
};

}  // namespace mpstate::test::history
