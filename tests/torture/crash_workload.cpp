// SPDX-License-Identifier: MIT
#include "crash_workload.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "mpstate/core/names.hpp"
#include "mpstate/json.hpp"

namespace mpstate::torture::crash {
namespace {

constexpr const char* prefix = "cp/";

std::uint64_t free_bytes(const Client& c) { return c.request({{"op", "stat"}}).at("free_bytes").get<std::uint64_t>(); }

// Deletes every variable, then checks the heap came back to one free block's worth.
void check_heap_whole(Client& c, std::uint64_t fresh_free, const std::string& what, outcome& out) {
  for (const auto& name : c.list(prefix)) c.remove(name);
  const std::uint64_t now = free_bytes(c);
  if (now != fresh_free) {
    ++out.other;
    out.notes.push_back(what + ": " + std::to_string(now) + " bytes free with nothing left, " +
                        std::to_string(fresh_free) + " in a fresh segment");
  }
}

}  // namespace

state state_of(const Client& client) {
  state out;
  const nlohmann::json dump = client.dump(prefix);
  for (const auto& v : dump.at("variables")) {
    auto [it, fresh] = out.try_emplace(v.at("name").get<std::string>());
    nlohmann::json value = v.at("value");
    if (v.at("type") == "queue") {  // room, not value: a grow may commit without the put that asked for it
      value.erase("slots");
      value.erase("item_size");
    }
    // A name held by two live records (a grow half done) never equals a real state.
    it->second = fresh ? nlohmann::json{{"type", v.at("type")}, {"value", std::move(value)}} : "named twice";
  }
  return out;
}

// The workload: each entry one acknowledged call. Grows of a string, a queue's item
// size and slots, and a list; a proxy bound across a grow, then dropped (a moved
// record freed); deletes; and churn enough to rehash the name table.
std::vector<step> workload(const held_proxy& held) {
  std::vector<step> steps;
  for (int i = 0; i < 4; ++i) {
    steps.push_back([i](Client& c) { c.create<std::int64_t>("cp/i" + std::to_string(i), 10 + i); });
  }
  steps.push_back([](Client& c) { c.create<std::string>("cp/s", std::string(10, 'x'), 16); });
  steps.push_back([](Client& c) { c.value<std::string>("cp/s").set(std::string(100, 'y')); });  // grow
  steps.push_back([](Client& c) { c.create<nlohmann::json>("cp/j", nlohmann::json{{"a", 1}}); });
  steps.push_back([](Client& c) { c.queue<std::int64_t>("cp/q"); });
  for (int i = 0; i < 40; ++i) steps.push_back([i](Client& c) { c.queue<std::int64_t>("cp/q").put(i); });
  steps.push_back([](Client& c) { c.queue<std::string>("cp/qs", 4, 16); });
  steps.push_back([](Client& c) { c.queue<std::string>("cp/qs").put(std::string(100, 'q')); });  // item size
  steps.push_back([](Client& c) { c.list_of<std::int64_t>("cp/l"); });
  for (int i = 0; i < 60; ++i) steps.push_back([i](Client& c) { c.list_of<std::int64_t>("cp/l").append(i); });
  steps.push_back([](Client& c) { c.semaphore("cp/sem", 3); });
  steps.push_back([](Client& c) { c.barrier("cp/bar", 2); });
  steps.push_back([](Client& c) { c.event("cp/ev"); });
  steps.push_back([](Client& c) { c.event("cp/ev").set(); });
  steps.push_back([](Client& c) { c.loop("cp/loop"); });
  // A proxy bound across a grow, dropped after it (the moved record is then freed).
  steps.push_back([held](Client& c) {
    held->reset();
    c.create<std::string>("cp/s2", "small", 16);
  });
  steps.push_back([held](Client& c) { held->emplace(c.value<std::string>("cp/s2")); });
  steps.push_back([](Client& c) { c.value<std::string>("cp/s2").set(std::string(300, 'z')); });
  steps.push_back([held](Client&) {
    if ((*held)->get() != std::string(300, 'z')) throw std::runtime_error("a bound proxy did not follow a grow");
    held->reset();
  });
  steps.push_back([](Client& c) { c.remove("cp/i1"); });
  steps.push_back([](Client& c) { c.remove("cp/j"); });
  steps.push_back([](Client& c) { c.create<std::int64_t>("cp/i1", 99); });
  for (int i = 0; i < 80; ++i) {  // past 1/8 of a 512-slot table in tombstones: a rehash
    steps.push_back([i](Client& c) { c.create<std::int64_t>("cp/c/" + std::to_string(i), i); });
    steps.push_back([i](Client& c) { c.remove("cp/c/" + std::to_string(i)); });
  }
  steps.push_back([](Client& c) { c.remove("cp/s2"); });
  return steps;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Starts a manager whose stderr goes to `log` (where a crash point names itself),
// told to die at crash point `crash_at` (0: never).
Manager start_manager(ManagerOptions o, long crash_at, const std::string& log) {
  const int saved = ::dup(STDERR_FILENO);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ::dup2(fd, STDERR_FILENO);
  ::close(fd);
  if (crash_at > 0) ::setenv("MPSTATE_CRASH_AT", std::to_string(crash_at).c_str(), 1);
  struct restore {
    int saved;
    ~restore() {
      ::unsetenv("MPSTATE_CRASH_AT");
      ::dup2(saved, STDERR_FILENO);
      ::close(saved);
    }
  } guard{saved};
  return Manager::start(o);
}

reference reference_run(const ManagerOptions& o, const std::vector<step>& steps, const held_proxy& held,
                        const std::string& log, outcome& out) {
  reference ref;
  Manager m = start_manager(o, 0, log);
  Client c = m.connect();
  ref.fresh_free = free_bytes(c);
  ref.after.push_back(state_of(c));
  for (const step& run : steps) {
    run(c);
    ref.after.push_back(state_of(c));
  }
  held->reset();
  // A state that stays empty would make every comparison pass: the last one must not be.
  if (ref.after.back().size() < 10) throw std::runtime_error("the reference run read no variables");
  check_heap_whole(c, ref.fresh_free, "reference run", out);
  return ref;
}

std::size_t run_until_failure(Manager& m, const std::vector<step>& steps, const held_proxy& held) {
  std::size_t acked = 0;
  {
    Client c = m.connect();
    try {
      for (; acked < steps.size(); ++acked) steps[acked](c);
    } catch (const error&) {
      // the manager died inside steps[acked]
    }
  }
  held->reset();  // a binding of ours would keep its record from being freed
  return acked;
}

void check_adoption(const ManagerOptions& o, const reference& ref, std::size_t acked, int further,
                    const std::string& where, const std::string& log, outcome& out) {
  try {
    Manager m = start_manager(o, 0, log);
    Client c = m.connect();
    const state now = state_of(c);
    if (now != ref.after[acked] && (acked + 1 >= ref.after.size() || now != ref.after[acked + 1])) {
      ++out.lost;
      out.notes.push_back(where + ": the variables are neither as before the step nor as after it");
    }
    for (int i = 0; i < further; ++i) {
      const std::string name = "cp/further/" + std::to_string(i % 50);
      c.create<std::int64_t>(name, i);
      if (c.value<std::int64_t>(name).get() != i) throw std::runtime_error("a further create read back wrong");
      c.remove(name);
    }
    check_heap_whole(c, ref.fresh_free, where, out);
  } catch (const std::exception& e) {
    ++out.other;
    out.notes.push_back(where + ": " + e.what());
  }
  ::shm_unlink(("/" + core::segment_name(o.name)).c_str());  // gone already, unless adoption failed
}

}  // namespace mpstate::torture::crash
