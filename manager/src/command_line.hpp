// SPDX-License-Identifier: MIT
// mpstate-manager's command line, in the library: parsed into manager::options (the
// server checks those: options::validate), so tests parse exactly what the daemon
// parses, and main() is one call.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "mpstate/manager/options.hpp"

namespace mpstate::manager {

struct command {
  enum class action { serve, help, version, list_ops };
  action what = action::serve;
  options opts;
  std::string usage;  // the --help text
};

// Parses argv[1..]: sizes ("64M"), seconds, uid lists, the key files (read now; the
// key in $MPSTATE_KEY is taken, then wiped from this process's environment block).
// Throws error(invalid_argument) for a bad value, std::exception (Boost's) for a
// command line that does not parse (an unknown option, --name missing).
command parse_command_line(const std::vector<std::string>& args);

// What mpstate-manager does with its arguments: parses, then serves or prints.
// Returns the exit status: 0, 1 for an error serving (logged), 2 for a bad command
// line (said on standard error with the usage), 3 when the name is served already.
int run_command_line(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace mpstate::manager
