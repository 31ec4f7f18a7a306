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
  const std::uint64_t free_before = stat()["free_bytes"];
  constexpr int created = 1000;
  {
    line_socket s(manager.socket_path());
    std::string batch;
    for (int i = 0; i < created; ++i)
      batch += R"({"op":"create","type":"int64","name":"mem/v)" + std::to_string(i) + "\"}\n";
    s.send(batch);
    s.read_responses(created);
  }
  const std::uint64_t free_after = stat()["free_bytes"];
  const double heap_per_var = static_cast<double>(free_before - free_after) / created;

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
          {"directory_bytes_per_name", 16.0 / 0.75},
          {"manager_rss_idle_kb", idle},
          {"manager_connections_measured", seen_connections},
          {"manager_rss_1000_clients_kb", busy},
          {"manager_rss_after_clients_left_kb", after}};
}

}  // namespace mpstate::bench
