// SPDX-License-Identifier: MIT
// mpstate-dump NAME [PREFIX] [--json] [--watch]: everything in a segment.
// Reads the segment directly, so it works while the manager is down too; with
// --socket PATH (or when the segment may not be mapped: another user's instance)
// it asks the manager instead (the dump op), as it does for tcp://HOST:PORT (with
// the key in $MPSTATE_KEY_FILE or $MPSTATE_KEY).
#include <boost/program_options.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "mpstate/client.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/core/dump.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/segment.hpp"
#include "mpstate/error.hpp"
#include "mpstate/version.hpp"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  std::string name, prefix, socket_path;
  bool as_json = false, watch = false;
  double interval = 1.0;
  po::options_description desc("mpstate-dump NAME [PREFIX] [options]");
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "name", po::value(&name)->required(), "manager name, or tcp://HOST:PORT")(
      "prefix", po::value(&prefix), "only variables whose names start with this")(
      "json", po::bool_switch(&as_json), "one JSON object instead of a table")("watch", po::bool_switch(&watch),
                                                                               "print again every --interval seconds")(
      "interval", po::value(&interval), "seconds between prints with --watch (default 1)")(
      "socket", po::value(&socket_path), "ask the manager on this socket instead of mapping the segment");
  po::positional_options_description pos;
  pos.add("name", 1).add("prefix", 1);
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << "mpstate-dump " << mpstate::version << " (segment layout " << mpstate::core::layout_version << ")\n";
      return 0;
    }
    po::notify(vm);
    // Another machine's manager (key: $MPSTATE_KEY_FILE), or the Redis backend.
    if (mpstate::core::is_network_url(name) || mpstate::core::is_redis_url(name))
      socket_path = name;
    else
      mpstate::core::validate_manager_name(name);
    std::unique_ptr<mpstate::core::segment> segment;
    std::optional<mpstate::Client> client;
    if (socket_path.empty()) {
      try {
        segment = mpstate::core::segment::open(mpstate::core::segment_name(name));
      } catch (const mpstate::error& e) {
        if (e.code() != mpstate::errc::permission_denied) throw;  // not ours: the manager may still serve us
      }
    }
    if (!segment)
      client.emplace(mpstate::ClientOptions{
          .manager_name = name, .socket_path = socket_path, .transport = mpstate::Transport::socket});
    do {
      nlohmann::json dump = segment ? mpstate::core::dump_json(*segment, prefix) : client->dump(prefix);
      if (as_json)
        std::cout << dump.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      else
        mpstate::core::write_dump_table(std::cout, dump);
      std::cout.flush();
      if (watch) {
        if (!as_json) std::cout << "\n";
        std::this_thread::sleep_for(std::chrono::duration<double>(interval));
      }
    } while (watch);
    return 0;
  } catch (const mpstate::error& e) {
    std::cerr << "mpstate-dump: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "mpstate-dump: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
}
