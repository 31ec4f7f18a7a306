// Every crash point, not by luck: the manager is told (MPSTATE_CRASH_AT=N) to
// SIGKILL itself at the Nth crash point of its structural changes (allocate, free,
// create, grow of every kind, delete, rehash), under a fixed workload of creates,
// grows, deletes and name churn. A new manager adopts the segment, and the harness
// checks: every variable is exactly as after the last acknowledged step, or as after
// the step in flight (all or nothing); then `further` creates and deletes succeed;
// then, with everything deleted, the heap is whole again (no block lost or doubled).
// N walks 1, 1+stride, ... until a manager survives the whole workload.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "mpstate/core/names.hpp"
#include "mpstate/mpstate.hpp"
#include "torture.hpp"

namespace mpstate::torture {
namespace {

using state = std::map<std::string, nlohmann::json>;  // name -> {type, value}
using step = std::function<void(Client&)>;

constexpr const char* prefix = "cp/";

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
using held_proxy = std::shared_ptr<std::optional<Value<std::string>>>;
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

outcome crash_point_trials(const settings& s, std::mt19937_64&) {
  outcome out;
  out.fault = "manager SIGKILLed at crash point N, adopted";
  const auto held = std::make_shared<std::optional<Value<std::string>>>();
  const std::vector<step> steps = workload(held);
  const std::string log = "/tmp/mpstate-crash-point-" + std::to_string(::getpid()) + ".log";
  ManagerOptions o;
  o.executable = s.manager_executable;
  o.size = 256 * 1024;  // a 512-slot name table: the churn rehashes it
  o.name = "crashpt-" + std::to_string(::getpid());

  // The reference run: the state after each step, and the free bytes of a fresh heap.
  // (A state that stays empty would make every comparison pass: the last one must not be.)
  std::vector<state> after;
  std::uint64_t fresh_free = 0;
  {
    Manager m = start_manager(o, 0, log);
    Client c = m.connect();
    fresh_free = free_bytes(c);
    after.push_back(state_of(c));
    for (const step& run : steps) {
      run(c);
      after.push_back(state_of(c));
    }
    if (after.back().size() < 10) throw std::runtime_error("the reference run read no variables");
    check_heap_whole(c, fresh_free, "reference run", out);
  }

  std::set<std::string> points;
  for (long n = 1;; n += std::max(1, s.crash_stride)) {
    std::optional<Manager> m(start_manager(o, n, log));
    std::size_t acked = 0;
    {
      Client c = m->connect();
      try {
        for (; acked < steps.size(); ++acked) steps[acked](c);
      } catch (const error&) {
        // the manager died inside steps[acked]
      }
      held->reset();  // a binding of ours would keep its record from being freed
    }
    const std::string said = read_file(log);
    const auto at = said.find("crash point reached: ");
    if (acked == steps.size() && at == std::string::npos) break;  // past the last point
    ++out.trials;
    const std::string point = at == std::string::npos ? "(none)" : said.substr(at + 21, said.find('\n', at) - at - 21);
    points.insert(point);
    m.reset();  // reaps the dead manager
    const std::string where = "N=" + std::to_string(n) + " (" + point + ", step " + std::to_string(acked) + ")";
    try {
      m.emplace(start_manager(o, 0, log));
      Client c = m->connect();
      const state now = state_of(c);
      if (now != after[acked] && (acked + 1 >= after.size() || now != after[acked + 1])) {
        ++out.lost;
        out.notes.push_back(where + ": the variables are neither as before the step nor as after it");
      }
      for (int i = 0; i < s.further; ++i) {
        const std::string name = "cp/further/" + std::to_string(i % 50);
        c.create<std::int64_t>(name, i);
        if (c.value<std::int64_t>(name).get() != i) throw std::runtime_error("a further create read back wrong");
        c.remove(name);
      }
      check_heap_whole(c, fresh_free, where, out);
    } catch (const std::exception& e) {
      ++out.other;
      out.notes.push_back(where + ": " + e.what());
    }
    m.reset();
    ::shm_unlink(("/" + core::segment_name(o.name)).c_str());  // gone already, unless adoption failed
  }
  ::unlink(log.c_str());
  out.notes.push_back(std::to_string(points.size()) + " distinct crash points, " + std::to_string(steps.size()) +
                      " steps, stride " + std::to_string(s.crash_stride));
  if (s.list_points) {
    for (const auto& p : points) out.notes.push_back("  point: " + p);
  }
  return out;
}

}  // namespace mpstate::torture
