// SPDX-License-Identifier: MIT
#include "container_workloads.hpp"

#include <stdexcept>

namespace mpstate::bench {
namespace {
std::string key(std::size_t i) { return "k" + std::to_string(i); }
}  // namespace

bool is_container_op(const std::string& op) {
  return op == "dict-get" || op == "dict-lookup" || op == "json-dict-get" || op == "queue";
}

void create_containers(const bench_options& o, const Client& client) {
  if (o.op == "queue") {
    client.queue<std::int64_t>("bench/q", 1024);
    return;
  }
  auto d = client.dict<std::int64_t>("bench/d");
  nlohmann::json blob = nlohmann::json::object();
  for (std::size_t i = 0; i < o.variables; ++i) {
    d.set(key(i), static_cast<std::int64_t>(i));
    blob[key(i)] = i;
  }
  client.value_or_create<nlohmann::json>("bench/blob").set(blob);
}

void container_loop(const bench_options& o, const Client& client, int rank, worker_slot& slot) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < o.variables; ++i) keys.push_back(key(i));
  std::size_t idx = static_cast<std::size_t>(rank) % keys.size();
  auto next = [&]() -> const std::string& {
    const std::string& k = keys[idx];
    if (++idx == keys.size()) idx = 0;
    return k;
  };
  const int batch = o.transport == "local" ? 64 : 1;
  if (o.op == "dict-get") {
    auto d = client.dict<std::int64_t>("bench/d");
    for (const auto& k : keys) sink = d.get(k);  // bound before timing, as a long-lived proxy is
    timed_loop(slot, o.seconds, batch, [&](std::uint64_t) { sink = d.get(next()); });
  } else if (o.op == "dict-lookup") {  // a dict that resolved the name on every call
    timed_loop(slot, o.seconds, batch,
               [&](std::uint64_t) { sink = client.value<std::int64_t>("bench/d/" + next()).get(); });
  } else if (o.op == "json-dict-get") {  // a dict kept as one json value: read it all, pick one key
    auto blob = client.value<nlohmann::json>("bench/blob");
    timed_loop(slot, o.seconds, batch, [&](std::uint64_t) { sink = blob.get().at(next()).get<std::int64_t>(); });
  } else if (o.op == "queue") {
    auto q = client.queue<std::int64_t>("bench/q", 1024);
    timed_loop(slot, o.seconds, batch, [&](std::uint64_t i) {
      q.put(static_cast<std::int64_t>(i));
      sink = q.get().value();
    });
  } else {
    throw std::runtime_error("not a container op: " + o.op);
  }
}

std::string check_containers(const bench_options& o, const Client& client) {
  if (o.op != "queue") return "ok";
  auto state = client.queue<std::int64_t>("bench/q", 1024).state();
  return state.at("size") == 0 && state.at("puts") == state.at("gets") ? "ok" : "queue: " + state.dump();
}

}  // namespace mpstate::bench
