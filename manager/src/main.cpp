// SPDX-License-Identifier: MIT
// mpstate-manager: the manager library run by its command line (command_line.cpp).
#include <signal.h>

#include <iostream>

#include "command_line.hpp"

int main(int argc, char** argv) {
  // A log written to a pipe whose reader has gone (an embedded manager's starter that
  // relayed it, then died) fails with EPIPE; it must not end the manager.
  ::signal(SIGPIPE, SIG_IGN);
  return mpstate::manager::run_command_line(argc, argv, std::cout, std::cerr);
}
