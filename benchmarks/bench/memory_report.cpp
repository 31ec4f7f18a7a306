// SPDX-License-Identifier: MIT
#include "memory_report.hpp"

#include <sys/resource.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "line_socket.hpp"
#include "mpstate/core/layout.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/mpstate.hpp"

namespace mpstate::bench {

nlohmann::json measure_memory() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  Manager manager = Manager::start();
  Client client = manager.connect();
  auto stat = [&] { return client.request({{"op", "stat"}}); };
  // Segment bytes per variable of one kind: `created` of them, names mem/<kind>NNNNN
  // (a string: the default capacity, 64 bytes, or 16)
  // (a queue: of int64, maxsize 100).
  constexpr int created = 1000;
  auto heap_per_variable = [&](const std::string& kind, const std::string& fields) {
    const std::uint64_t free_before = stat()["free_bytes"];
    line_socket s(manager.socket_path());
    std::string batch;
    for (int i = 0; i < created; ++i) {
      batch += R"({"op":"create",)" + fields + R"(,"name":"mem/)" + kind + std::to_string(10000 + i) + "\"}\n";
    }
    s.send(batch);
    s.read_responses(created);
    const std::uint64_t free_after = stat()["free_bytes"];
    return static_cast<double>(free_before - free_after) / created;
  };
  const double heap_per_var = heap_per_variable("v", R"("type":"int64")");
  const double heap_per_string = heap_per_variable("s", R"("type":"string","value":"0123456789abcdef")");
  const double heap_per_sized_string =
      heap_per_variable("t", R"("type":"string","capacity":16,"value":"0123456789abcdef")");
  const double heap_per_queue = heap_per_variable("q", R"("type":"queue","value":{"of":"int64","maxsize":100})");

  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the manager settle
  const long idle = core::resident_memory_kb(manager.pid());
  std::vector<std::unique_ptr<line_socket>> clients;
  constexpr int connected = 1000;
  for (int i = 0; i < connected; ++i) {
    clients.push_back(std::make_unique<line_socket>(manager.socket_path()));
    clients.back()->send(R"({"op":"hello"})"
                         "\n");
  }
  for (auto& c : clients) c->read_line();  // every one is served
  const std::uint64_t seen_connections = stat()["connections"];
  const long busy = core::resident_memory_kb(manager.pid());
  clients.clear();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (stat()["connections"].get<int>() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const long after = core::resident_memory_kb(manager.pid());
  return {{"record_struct_bytes", sizeof(core::variable_record)},
          {"heap_bytes_per_int64_variable", heap_per_var},
          {"heap_bytes_per_16_byte_string", heap_per_string},
          {"heap_bytes_per_16_byte_string_capacity_16", heap_per_sized_string},
          {"heap_bytes_per_queue", heap_per_queue},
          {"directory_bytes_per_name", 16.0 / 0.75},
          {"manager_rss_idle_kb", idle},
          {"manager_connections_measured", seen_connections},
          {"manager_rss_1000_clients_kb", busy},
          {"manager_rss_after_clients_left_kb", after}};
}

}  // namespace mpstate::bench
