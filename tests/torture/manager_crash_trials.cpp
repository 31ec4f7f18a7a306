// SPDX-License-Identifier: MIT
// The manager SIGKILLed and restarted under load: four client processes add(1) to
// one counter in a loop and a fifth creates variables over the socket. Adds must
// never stop or be lost; creates fail with manager_unavailable while the manager
// is down and every create that was answered "ok" survives the restarts (the
// allocator and name table of a manager killed mid-create stay usable).
#include <signal.h>

#include <set>

#include "mpstate/mpstate.hpp"
#include "shared_page.hpp"
#include "torture.hpp"

namespace mpstate::torture {
namespace {

constexpr int adders = 4;
constexpr int creator = adders;  // its slot in the shared page

std::int64_t total_adds(const shared_page* page) {
  std::int64_t sum = 0;
  for (int i = 0; i < adders; ++i) sum += page->counts[i].load();
  return sum;
}

int add_forever(const std::string& name, shared_page* page, int slot) {
  Client client(name);
  auto counter = client.value<std::int64_t>("load/counter");
  while (!page->stop.load(std::memory_order_relaxed)) {
    try {
      counter.add(1);
      page->counts[slot].fetch_add(1, std::memory_order_relaxed);
    } catch (const error&) {
      page->failures[slot].fetch_add(1);
    }
  }
  return 0;
}

// Creates "load/made/0", "load/made/1", ... in order, moving on only once the
// current one exists; counts[creator] is how many exist (all answered ok, or
// already_exists when the manager created it but died before answering).
int create_forever(const std::string& name, shared_page* page) {
  Client client(name);
  std::int64_t n = 0;
  while (!page->stop.load(std::memory_order_relaxed)) {
    try {
      client.create<std::int64_t>("load/made/" + std::to_string(n), n);
      page->counts[creator].store(++n);
    } catch (const error& e) {
      if (e.code() == errc::already_exists)
        page->counts[creator].store(++n);  // answered before a kill
      else
        page->failures[creator].fetch_add(1);
    }
  }
  return 0;
}

}  // namespace

outcome manager_crash_trials(const settings& s, std::mt19937_64& rng) {
  outcome out;
  out.fault = "SIGKILL manager under 4 adders + 1 creator, restart";
  ManagerOptions o;
  o.executable = s.manager_executable;
  o.size = 16 << 20;
  std::optional<Manager> manager(Manager::start(o));
  o.name = manager->name();
  Client client = manager->connect();
  auto counter = client.create<std::int64_t>("load/counter", 0);

  page_mapping page;
  std::vector<pid_t> children;
  for (int i = 0; i < adders; ++i)
    children.push_back(fork_child([&] { return add_forever(o.name, page.operator->(), i); }));
  children.push_back(fork_child([&] { return create_forever(o.name, page.operator->()); }));

  auto progressed = [&](std::int64_t by) {
    const std::int64_t from = total_adds(page.operator->());
    return wait_until([&] { return total_adds(page.operator->()) >= from + by; }, std::chrono::seconds(10));
  };
  std::uniform_int_distribution<int> spin_us(0, 3000);
  for (int r = 0; r < s.restarts; ++r) {
    ++out.trials;
    const std::int64_t created = page->counts[creator].load();
    wait_until([&] { return page->counts[creator].load() > created; }, std::chrono::seconds(5));
    spin_for(std::chrono::microseconds(spin_us(rng)));
    ::kill(manager->pid(), SIGKILL);
    manager.reset();  // reaps it (the destructor's shutdown finds it dead)
    if (!progressed(10'000)) {
      ++out.hung;
      out.notes.push_back("adders stalled while the manager was down");
    }
    errc while_down = errc::ok;
    try {
      client.create<std::int64_t>("load/while-down", 0);
    } catch (const error& e) {
      while_down = e.code();
    }
    if (while_down != errc::manager_unavailable) {
      ++out.other;
      out.notes.push_back(std::string("create while down gave ") + std::string(to_string(while_down)));
    }
    auto start = std::chrono::steady_clock::now();
    manager.emplace(Manager::start(o));
    out.worst_ms = std::max(
        out.worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    try {
      client.create<std::int64_t>("load/after/" + std::to_string(r), r);
    } catch (const error& e) {
      ++out.other;
      out.notes.push_back(std::string("create after restart: ") + e.what());
    }
    if (!progressed(10'000)) {
      ++out.hung;
      out.notes.push_back("adders stalled after a restart");
    }
  }
  page->stop.store(true);
  for (pid_t child : children) {
    if (reap(child, std::chrono::seconds(10)) != 0) {
      ++out.other;
      out.notes.push_back("a client process did not end cleanly");
    }
  }
  for (int i = 0; i <= adders; ++i) {
    if (page->failures[i].load() == 0 || i == creator) continue;
    ++out.other;
    out.notes.push_back("adder " + std::to_string(i) + ": " + std::to_string(page->failures[i].load()) +
                        " adds failed");
  }
  out.lost += total_adds(page.operator->()) - counter.get();
  // Every create answered ok is still there, readable, with its value.
  const std::int64_t made = page->counts[creator].load();
  std::set<std::string> listed;
  for (const auto& name : client.list("load/made/")) listed.insert(name);
  for (std::int64_t n = 0; n < made; ++n) {
    std::string name = "load/made/" + std::to_string(n);
    if (!listed.count(name) || client.value<std::int64_t>(name).get() != n) ++out.lost;
  }
  // The segment still allocates and frees after all those kills.
  try {
    for (int i = 0; i < 100; ++i) client.create<std::string>("load/final/" + std::to_string(i), std::string(100, 'x'));
    for (int i = 0; i < 100; ++i) client.remove("load/final/" + std::to_string(i));
  } catch (const error& e) {
    ++out.other;
    out.notes.push_back(std::string("allocating after the restarts: ") + e.what());
  }
  out.notes.push_back(std::to_string(total_adds(page.operator->())) + " adds, " + std::to_string(made) +
                      " creates answered ok");
  return out;
}

}  // namespace mpstate::torture
