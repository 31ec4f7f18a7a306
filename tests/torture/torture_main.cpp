// SPDX-License-Identifier: MIT
// mpstate-torture: injects crashes into real processes and reports, per fault,
// the trials and the failures (torn, hung, lost, other). Exits 1 on any failure.
//   mpstate-torture [--only string,json,pair,holder-string,holder-int64,queue,manager,crash-points,
//                           random-instructions,stop]
//                   [--trials N] [--restarts N] [--seed S] [--manager PATH]
//                   [--crash-stride K] [--further N] [--list-points]
#include <boost/program_options.hpp>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "mpstate/version.hpp"
#include "torture.hpp"

namespace po = boost::program_options;
using namespace mpstate::torture;

namespace {
void print(const outcome& o) {
  std::cout << std::left << std::setw(54) << o.fault << std::right << std::setw(7) << o.trials << std::setw(6) << o.torn
            << std::setw(6) << o.hung << std::setw(6) << o.lost << std::setw(7) << o.other << std::setw(10)
            << std::fixed << std::setprecision(1) << o.worst_ms << "  " << (o.passed() ? "ok" : "FAILED") << "\n";
  for (const auto& note : o.notes) std::cout << "    " << note << "\n";
  std::cout.flush();
}
}  // namespace

int main(int argc, char** argv) {
  settings s;
  std::string only = "string,json,pair,int64,int64-update,holder-string,holder-int64,queue,manager,crash-points";
  po::options_description desc("mpstate-torture [options]");
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "only", po::value(&only),
      "comma-separated faults: "
      "string,json,pair,int64,int64-update,holder-string,holder-int64,queue,manager,crash-points,"
      "random-instructions (gdb; not in the default list), stop (a client SIGSTOPped in each kind of op)")(
      "trials", po::value(&s.trials)->default_value(50), "kills per torn-write / dead-holder fault")(
      "restarts", po::value(&s.restarts)->default_value(10), "manager kills in the manager fault")(
      "seed", po::value(&s.seed)->default_value(0), "random seed (0: from the clock; printed)")(
      "crash-stride", po::value(&s.crash_stride)->default_value(1), "crash points: try every K-th point")(
      "further", po::value(&s.further)->default_value(500), "crash points: create+delete pairs after each adoption")(
      "list-points", po::bool_switch(&s.list_points), "crash points: name every point reached")(
      "p99-limit", po::value(&s.stop_p99_limit_ms)->default_value(10), "stop: the other client's p99 limit, ms")(
      "manager", po::value(&s.manager_executable)->default_value(MPSTATE_MANAGER_PATH), "mpstate-manager to run");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << "mpstate-torture " << mpstate::version << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "mpstate-torture: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (s.seed == 0) s.seed = std::random_device{}();
  std::mt19937_64 rng(s.seed);
  std::cout << "seed " << s.seed << "\n"
            << std::left << std::setw(54) << "fault" << std::right << std::setw(7) << "trials" << std::setw(6) << "torn"
            << std::setw(6) << "hung" << std::setw(6) << "lost" << std::setw(7) << "other" << std::setw(10)
            << "worst ms"
            << "\n";
  bool all_passed = true;
  std::stringstream list(only);
  for (std::string kind; std::getline(list, kind, ',');) {
    if (kind == "stop") {  // one row per kind of op
      std::vector<outcome> rows;
      try {
        rows = stopped_client_trials(s, rng);
      } catch (const std::exception& e) {
        rows.push_back({.fault = kind, .other = 1, .notes = {std::string("the trial itself failed: ") + e.what()}});
      }
      for (const outcome& o : rows) {
        print(o);
        all_passed = all_passed && o.passed();
      }
      continue;
    }
    outcome o;
    try {
      if (kind == "string" || kind == "json" || kind == "pair" || kind == "int64" || kind == "int64-update")
        o = torn_write_trials(kind, s, rng);
      else if (kind == "holder-string")
        o = dead_holder_trials("string", s, rng);
      else if (kind == "holder-int64")
        o = dead_holder_trials("int64", s, rng);
      else if (kind == "queue")
        o = queue_trials(s, rng);
      else if (kind == "manager")
        o = manager_crash_trials(s, rng);
      else if (kind == "crash-points")
        o = crash_point_trials(s, rng);
      else if (kind == "random-instructions")
        o = random_instruction_trials(s, rng);
      else
        throw std::invalid_argument("unknown fault: " + kind);
    } catch (const std::exception& e) {
      o.fault = kind;
      ++o.other;
      o.notes.push_back(std::string("the trial itself failed: ") + e.what());
    }
    print(o);
    all_passed = all_passed && o.passed();
    if (o.hung) {
      std::cout << "a lock hung: stopping here\n";
      std::cout.flush();
      std::_Exit(1);  // a thread is stuck in a lock; do not wait for it
    }
  }
  return all_passed ? 0 : 1;
}
