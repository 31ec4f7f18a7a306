// SPDX-License-Identifier: MIT
// mpstate: the operator's command line, in the spirit of redis-cli. Every command is
// one or more wire ops (docs/protocol.md) over the manager's socket, so it works on
// another user's instance where the manager allows it (--socket PATH).
//
//   mpstate [-n NAME | --socket PATH] [--json] COMMAND [ARGS...]
//
// Exit codes: 0 done; 1 the manager answered an error (its code and message on
// stderr); 2 bad usage; 3 no manager answers; 4 `wait` timed out.
#include <boost/program_options.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_commands.hpp"
#include "mpstate/client.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/version.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  mpstate::cli::options o;
  std::vector<std::string> words;
  std::string key_file;
  mpstate::cli::dashboard_options dashboard;
  po::options_description desc(
      "mpstate [-n NAME | --socket PATH] [--json] COMMAND [ARGS...]\n\n"
      "commands:\n"
      "  get NAME              the value (strings as text, the rest as JSON)\n"
      "  set NAME VALUE        VALUE is JSON (42, \"text\", [1,2]); else it is taken as text\n"
      "  add NAME DELTA        adds to a number; prints the new value\n"
      "  del NAME              deletes a variable\n"
      "  list [PREFIX]         names, one per line (also: keys)\n"
      "  watch NAME            prints the value each time it changes (Ctrl-C ends)\n"
      "  wait NAME [SECONDS]   waits for one change (default 30 s); exit 4 when none came\n"
      "  loop NAME status|stop a loop's state, or ask it to stop and wait until it has\n"
      "  stat                  the manager's figures\n"
      "  dump [PREFIX]         every variable, as mpstate-dump shows it\n"
      "  shutdown              stops the manager (it saves its snapshot first)\n"
      "  raw JSON...           sends each JSON request as is (or lines from stdin: raw -)\n"
      "  segments [clean] [PREFIX]  this user's segments (of managers named PREFIX...) and\n"
      "                        whether a manager serves each; clean removes those nobody\n"
      "                        serves (a manager killed and never restarted; no -n needed)\n"
      "  dashboard NAME        serves the live page of NAME's state on --host:--port (Python's\n"
      "                        mpstate package and uvicorn; $MPSTATE_PYTHON or /usr/bin/python3)\n\n"
      "options");
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "name,n", po::value(&o.manager), "the manager's name, or tcp://HOST:PORT (or $MPSTATE_NAME)")(
      "socket", po::value(&o.socket_path), "the manager's socket path, or tcp://HOST:PORT, instead of its name")(
      "key-file", po::value(&key_file),
      "tcp://: the manager's key, a file only you may read (default "
      "$MPSTATE_KEY_FILE, or the key in $MPSTATE_KEY)")("json", po::bool_switch(&o.json),
                                                        "JSON output, one object per line, for scripts")(
      "count", po::value(&o.count), "watch: stop after this many changes")("timeout", po::value(&o.timeout_s),
                                                                           "seconds a loop stop waits (default 10)")(
      "host", po::value(&dashboard.host), "dashboard: the address to serve on (default 127.0.0.1)")(
      "port", po::value(&dashboard.port), "dashboard: the port to serve on (default 8321)")(
      "read-only", po::bool_switch(&dashboard.read_only), "dashboard: no stop button")("words", po::value(&words),
                                                                                       "the command and its arguments");
  po::positional_options_description pos;
  pos.add("words", -1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
    po::notify(vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << "mpstate " << mpstate::version << "\n";
      return 0;
    }
    if (o.manager.empty()) {
      if (const char* env = std::getenv("MPSTATE_NAME")) o.manager = env;
    }
    if (!key_file.empty()) o.key = mpstate::core::read_key_file(key_file);
    if (words.empty()) throw mpstate::cli::usage_error("no command; see mpstate --help");
    if (words[0] == "segments") return mpstate::cli::run_segments(o, words, std::cout);
    if (words[0] == "dashboard") {
      if (!key_file.empty()) ::setenv("MPSTATE_KEY_FILE", key_file.c_str(), 1);  // for a tcp:// manager
      return mpstate::cli::run_dashboard(o, words, dashboard);
    }
    if (o.manager.empty() && o.socket_path.empty()) {
      throw mpstate::cli::usage_error("which manager? give -n NAME or --socket PATH");
    }
    return mpstate::cli::run(o, words, std::cout);
  } catch (const mpstate::cli::usage_error& e) {
    std::cerr << "mpstate: " << e.what() << "\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "mpstate: " << e.what() << "\n";
    return 2;
  } catch (const mpstate::error& e) {
    std::cerr << "mpstate: " << e.what() << "\n";
    return e.code() == mpstate::errc::manager_unavailable ? 3 : 1;
  }
}
