// SPDX-License-Identifier: MIT
// The commands of the `mpstate` CLI (cli_main.cpp), each as wire ops.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mpstate::cli {

struct options {
  std::string manager;
  std::string socket_path;  // or tcp://HOST:PORT
  std::string key;          // tcp://: the key (empty: $MPSTATE_KEY, $MPSTATE_KEY_FILE)
  bool json = false;
  long count = -1;        // watch: changes to print (-1: until interrupted)
  double timeout_s = 10;  // loop stop: how long to wait for `stopped`
};

// Bad usage (exit 2).
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs `words` (the command and its arguments); returns the exit code. Throws
// usage_error, mpstate::error.
int run(const options& o, const std::vector<std::string>& words, std::ostream& out);

}  // namespace mpstate::cli
