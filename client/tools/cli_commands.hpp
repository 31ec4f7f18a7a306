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

// `mpstate segments [clean] [PREFIX]` (cli_segments.cpp): this user's segments, whether a
// manager serves each; `clean` removes those nobody serves.
int run_segments(const options& o, const std::vector<std::string>& words, std::ostream& out);

// Throws usage_error(usage) unless least <= words.size() <= most.
void need(const std::vector<std::string>& w, std::size_t least, std::size_t most, const char* usage);

// `mpstate dashboard NAME`: runs the Python package's dashboard (mpstate._dashboard's
// main, under uvicorn) in place of this process; returns only when it cannot.
struct dashboard_options {
  std::string host = "127.0.0.1";
  int port = 8321;
  bool read_only = false;
};
int run_dashboard(const options& o, const std::vector<std::string>& words, const dashboard_options& d);

}  // namespace mpstate::cli
