// SPDX-License-Identifier: MIT
#include "history_checker.hpp"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mpstate::test::history {

namespace {

const char* kind_name(op_kind k) {
  switch (k) {
    case op_kind::acquire:
      return "acquire";
    case op_kind::write:
      return "write";
    case op_kind::release:
      return "release";
  }
  return "?";
}

op_kind kind_of(const std::string& s) {
  if (s == "acquire") return op_kind::acquire;
  if (s == "write") return op_kind::write;
  return op_kind::release;
}

outcome outcome_of(const std::string& s) {
  if (s == "ok") return outcome::ok;
  if (s == "lost") return outcome::lost;
  if (s == "failed") return outcome::failed;
  if (s == "unknown") return outcome::unknown;
  return outcome::pending;
}

std::string describe(const event& e) {
  std::ostringstream o;
  o << "client " << e.client << " " << kind_name(e.kind) << " epoch " << e.fence;
  if (e.kind == op_kind::write) o << " value " << e.value;
  o << " [" << e.invoked_ns << ", " << (e.completed_ns ? std::to_string(e.completed_ns) : "-") << "] "
    << to_string(e.result);
  return o.str();
}

// The acknowledged acquisitions by completion time, with the largest epoch granted so
// far: what any op invoked at time T must have seen as the lock's newest holding.
class granted_before {
 public:
  explicit granted_before(const std::vector<event>& events) {
    for (const event& e : events) {
      if (e.kind == op_kind::acquire && e.result == outcome::ok) acquired_.push_back({e.completed_ns, e.fence});
    }
    std::sort(acquired_.begin(), acquired_.end());
    std::uint64_t best = 0;
    for (auto& [at, fence] : acquired_) fence = best = std::max(best, fence);
  }
  // The largest epoch whose acquisition was acknowledged before `t` (0: none).
  std::uint64_t at(std::int64_t t) const {
    auto it = std::lower_bound(acquired_.begin(), acquired_.end(), std::pair<std::int64_t, std::uint64_t>{t, 0});
    return it == acquired_.begin() ? 0 : std::prev(it)->second;
  }
  // The first time an epoch above `fence` was acknowledged (0: never).
  std::int64_t first_above(std::uint64_t fence) const {
    for (const auto& [at, best] : acquired_) {
      if (best > fence) return at;
    }
    return 0;
  }

 private:
  std::vector<std::pair<std::int64_t, std::uint64_t>> acquired_;  // (completed, max epoch up to it)
};

void violation(report& r, int check, const std::string& text) {
  ++r.by_check[check];
  if (r.violations.size() < 50) r.violations.push_back("check " + std::to_string(check) + ": " + text);
}

}  // namespace

std::int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string to_string(outcome o) {
  switch (o) {
    case outcome::pending:
      return "pending";
    case outcome::ok:
      return "ok";
    case outcome::lost:
      return "lost";
    case outcome::failed:
      return "failed";
    case outcome::unknown:
      return "unknown";
  }
  return "?";
}

log_writer::log_writer(const std::string& path, int client) : client_(client) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open the history log " + path);
}

log_writer::~log_writer() { ::close(fd_); }

std::uint64_t log_writer::invoke(op_kind kind, std::uint64_t fence, std::int64_t value) {
  const std::uint64_t op = next_++;
  const std::string line = "I " + std::to_string(op) + " " + std::to_string(client_) + " " + kind_name(kind) + " " +
                           std::to_string(fence) + " " + std::to_string(value) + " " + std::to_string(monotonic_ns()) +
                           "\n";
  [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
  return op;
}

void log_writer::complete(std::uint64_t op, outcome result, std::uint64_t fence, std::int64_t value) {
  const std::string line = "C " + std::to_string(op) + " " + std::to_string(client_) + " " + to_string(result) + " " +
                           std::to_string(fence) + " " + std::to_string(value) + " " + std::to_string(monotonic_ns()) +
                           "\n";
  [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
}

std::vector<event> read_logs(const std::string& dir) {
  std::vector<event> all;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    if (file.path().extension() != ".log") continue;
    std::ifstream in(file.path());
    std::map<std::uint64_t, event> open;  // by op number, within this file (one client life)
    std::string tag, word;
    std::uint64_t op = 0, fence = 0;
    int client = 0;
    std::int64_t value = 0, at = 0;
    while (in >> tag >> op >> client >> word >> fence >> value >> at) {
      if (tag == "I") {
        open[op] = event{client, kind_of(word), fence, at, 0, outcome::pending, value};
      } else if (auto it = open.find(op); it != open.end()) {
        event e = it->second;
        open.erase(it);
        e.completed_ns = at;
        e.result = outcome_of(word);
        if (fence) e.fence = fence;
        if (value) e.value = value;
        all.push_back(e);
      }
    }
    for (auto& [n, e] : open) all.push_back(e);  // killed mid-op: its effect is unknown
  }
  std::sort(all.begin(), all.end(), [](const event& a, const event& b) { return a.invoked_ns < b.invoked_ns; });
  return all;
}

report check(const std::vector<event>& events, std::int64_t final_value) {
  report r;
  const granted_before granted(events);
  std::map<std::int64_t, const event*> claimed;  // an acknowledged write's value -> the write
  struct holding {
    const event* acquired = nullptr;
    std::vector<const event*> ops;  // its writes and releases
  };
  std::map<std::uint64_t, holding> holdings;
  std::size_t writes_maybe = 0;
  for (const event& e : events) {
    if (e.kind == op_kind::acquire) {
      if (e.result != outcome::ok) continue;
      ++r.acquires;
      if (holdings[e.fence].acquired) violation(r, 5, "epoch granted twice: " + describe(e));
      holdings[e.fence].acquired = &e;
      // 5. epochs only grow.
      if (const std::uint64_t before = granted.at(e.invoked_ns); before >= e.fence) {
        violation(r, 5, describe(e) + " was granted after epoch " + std::to_string(before) + " had been");
      }
      continue;
    }
    holdings[e.fence].ops.push_back(&e);
    if (e.result == outcome::lost) ++r.losses_reported;
    if (e.kind == op_kind::write) {
      if (e.result == outcome::ok) {
        ++r.writes_acked;
        if (auto [it, fresh] = claimed.emplace(e.value, &e); !fresh && final_value >= 0) {
          violation(r, 2,
                    "two acknowledged writes of value " + std::to_string(e.value) + ": " + describe(*it->second) +
                        " and " + describe(e));
        }
      } else if (e.result == outcome::unknown || e.result == outcome::pending) {
        ++r.writes_unknown;
        ++writes_maybe;
      }
    }
    if (e.kind == op_kind::release && e.result == outcome::ok) ++r.releases;
    // 3. no stale write accepted, no former owner's release.
    if (e.result == outcome::ok) {
      if (const std::uint64_t newest = granted.at(e.invoked_ns); newest > e.fence) {
        violation(r, 3,
                  describe(e) + " was acknowledged though epoch " + std::to_string(newest) +
                      " had been granted before it was sent");
      }
    }
  }
  // 1. no two acknowledged holders overlap: [acquired, release sent] of holdings
  // whose acquire and release were both acknowledged.
  std::vector<std::pair<std::int64_t, std::int64_t>> held;
  for (const auto& [fence, h] : holdings) {
    if (!h.acquired) continue;
    for (const event* op : h.ops) {
      if (op->kind == op_kind::release && op->result == outcome::ok) {
        held.emplace_back(h.acquired->completed_ns, op->invoked_ns);
        break;
      }
    }
  }
  std::sort(held.begin(), held.end());
  std::int64_t until = 0;
  for (const auto& [from, to] : held) {
    if (from < until) {
      violation(r, 1,
                "two acknowledged holdings overlap: one held until " + std::to_string(until) + ", another from " +
                    std::to_string(from));
    }
    until = std::max(until, to);
  }
  // 2. every acknowledged write in the final state exactly once.
  if (final_value >= 0) {
    for (const auto& [value, write] : claimed) {
      if (value > final_value)
        violation(r, 2, describe(*write) + " is past the final value " + std::to_string(final_value));
    }
    const auto acked = static_cast<std::int64_t>(r.writes_acked);
    if (final_value < acked || final_value > acked + static_cast<std::int64_t>(writes_maybe)) {
      violation(r, 2,
                "final value " + std::to_string(final_value) + " for " + std::to_string(acked) +
                    " acknowledged writes and " + std::to_string(writes_maybe) + " of unknown outcome");
    }
  }
  // 4. every lost ownership reported: a holding overtaken (a larger epoch granted
  // before its owner let it go) whose owner went on as that owner was told
  // ownership_lost.
  for (const auto& [fence, h] : holdings) {
    if (!h.acquired) continue;
    const std::int64_t overtaken = granted.first_above(fence);
    if (overtaken == 0) continue;
    bool ended_before = false, acted_after = false, told = false, died = false;
    for (const event* op : h.ops) {
      if (op->kind == op_kind::release && op->result == outcome::ok && op->invoked_ns <= overtaken) ended_before = true;
      if (op->invoked_ns > overtaken) acted_after = true;
      if (op->result == outcome::lost) told = true;
      if (op->result == outcome::pending) died = true;
    }
    if (ended_before) continue;
    ++r.holdings_overtaken;
    if (acted_after && !told && !died) {
      violation(r, 4,
                "client " + std::to_string(h.acquired->client) + "'s holding of epoch " + std::to_string(fence) +
                    " was overtaken and its owner acted on as owner without being told ownership_lost");
    }
  }
  return r;
}

}  // namespace mpstate::test::history
