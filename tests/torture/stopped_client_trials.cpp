// SPDX-License-Identifier: MIT
// A client stopped (SIGSTOP: Ctrl-Z, a debugger) at a random moment of each kind
// of operation: while it is stopped, another client's socket set+get on another
// variable must keep answering within 10 ms at the 99th percentile (--p99-limit) and the
// manager's clock must keep ticking; after SIGCONT the stopped client must go on.
// One row per kind of op; `trials` stops each.
#include <signal.h>

#include <algorithm>

#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/segment.hpp"
#include "mpstate/mpstate.hpp"
#include "shared_page.hpp"
#include "torture.hpp"

namespace mpstate::torture {
namespace {

using steady = std::chrono::steady_clock;
constexpr auto stop_window = std::chrono::milliseconds(200);

// One kind of op, looped by the client that gets stopped; it counts in counts[0].
struct op_kind {
  const char* name;
  std::function<void(Client&, std::int64_t i)> run;
};

std::vector<op_kind> op_kinds() {
  return {
      {"set a string", [](Client& c, std::int64_t i) { c.value_or_create<std::string>("s/text").set(text_of(i)); }},
      {"update(fn) an int64",
       [](Client& c, std::int64_t) {
         c.value_or_create<std::int64_t>("s/n", 0).update([](std::int64_t v) { return v + 1; });
       }},
      {"queue put + get",
       [](Client& c, std::int64_t i) {
         auto q = c.queue<std::int64_t>("s/q");
         q.put(i);
         q.get(std::chrono::milliseconds(1000));
       }},
      {"lock acquire + release",
       [](Client& c, std::int64_t) {
         auto l = c.lock("s/lock");
         LockGuard g(l);
       }},
      {"dict set + keys",
       [](Client& c, std::int64_t i) {
         auto d = c.dict<std::int64_t>("s/d");
         d.set(std::to_string(i % 64), i);
         d.keys();
       }},
      {"list append (grows through the manager)",
       [](Client& c, std::int64_t i) {
         auto l = c.list_of<std::int64_t>("s/list");
         if (l.size() > 4096) l.pop();
         l.append(i);
       }},
      {"create + delete (the manager's name table)",
       [](Client& c, std::int64_t i) {
         const std::string name = "s/made/" + std::to_string(i % 16);
         c.create<std::int64_t>(name, i);
         c.remove(name);
       }},
  };
}

}  // namespace

std::vector<outcome> stopped_client_trials(const settings& s, std::mt19937_64& rng) {
  std::vector<outcome> rows;
  ManagerOptions o;
  o.executable = s.manager_executable;
  o.size = 32 << 20;
  Manager manager = Manager::start(o);
  Client probe_client(ClientOptions{.manager_name = manager.name(), .transport = Transport::socket});
  Client local = manager.connect();
  local.create<std::int64_t>("probe/other", 0);
  auto segment = core::segment::open(core::segment_name(manager.name()));
  std::uniform_int_distribution<int> spin_us(0, 2000);

  for (const op_kind& kind : op_kinds()) {
    outcome out;
    out.fault = std::string("SIGSTOP in ") + kind.name;
    page_mapping page;
    const pid_t child = fork_child([&] {
      Client c(manager.name());
      for (std::int64_t i = 0;; ++i) {
        kind.run(c, i);
        page->counts[0].fetch_add(1, std::memory_order_relaxed);
      }
      return 0;
    });
    auto progressed = [&](std::int64_t by) {
      const std::int64_t from = page->counts[0].load();
      return wait_until([&] { return page->counts[0].load() >= from + by; }, std::chrono::seconds(10));
    };
    if (!progressed(50)) {
      ++out.hung;
      out.notes.push_back("the op loop never got going");
    }
    auto other = probe_client.value<std::int64_t>("probe/other");
    std::vector<double> p99s;
    for (int t = 0; t < s.trials && out.hung == 0; ++t) {
      ++out.trials;
      spin_for(std::chrono::microseconds(spin_us(rng)));
      ::kill(child, SIGSTOP);
      wait_until([&] { return core::is_stopped(child); }, std::chrono::seconds(5));
      const std::int64_t clock_before = segment->header().clock_ns.load();
      std::vector<steady::duration> took;
      const auto window_end = steady::now() + stop_window;
      for (std::int64_t i = 0; steady::now() < window_end; ++i) {
        const auto t0 = steady::now();
        other.set(i);
        if (other.get() != i) ++out.other;
        took.push_back(steady::now() - t0);
      }
      const bool ticked = segment->header().clock_ns.load() > clock_before;
      ::kill(child, SIGCONT);
      std::sort(took.begin(), took.end());
      const auto p99 = took[took.size() * 99 / 100];
      const double p99_ms = std::chrono::duration<double, std::milli>(p99).count();
      p99s.push_back(p99_ms);
      out.worst_ms = std::max(out.worst_ms, p99_ms);
      if (p99_ms > s.stop_p99_limit_ms) {
        ++out.other;
        out.notes.push_back("trial " + std::to_string(t) + ": p99 " + std::to_string(p99_ms) + " ms");
      }
      if (!ticked) {
        ++out.other;
        out.notes.push_back("trial " + std::to_string(t) + ": the manager's clock stood still");
      }
      if (!progressed(10)) {
        ++out.hung;
        out.notes.push_back("trial " + std::to_string(t) + ": the op loop did not go on after SIGCONT");
      }
    }
    kill_and_reap(child);
    if (!p99s.empty()) {
      std::sort(p99s.begin(), p99s.end());
      out.notes.push_back("other client's set+get while stopped: median p99 " + std::to_string(p99s[p99s.size() / 2]) +
                          " ms over " + std::to_string(p99s.size()) + " stops of " +
                          std::to_string(stop_window.count()) + " ms");
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

}  // namespace mpstate::torture
