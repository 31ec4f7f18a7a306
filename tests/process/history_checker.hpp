// SPDX-License-Identifier: MIT
// A history of a fenced counter under one lock, and its checker, in the spirit of
// Jepsen's linearizable mutex and register checks (knossos) and Kleppmann's fencing
// rule. Clients loop: acquire the lock, read the counter, write read + 1 with the
// lock's fence, release; each op's invocation and completion are recorded with
// CLOCK_MONOTONIC times (the clients share one machine's clock, network namespaces
// included). A process killed mid-op leaves an invocation without completion: its
// effect is unknown.
//
// What a correct system must show, whatever the faults (history_checker::check):
//   1. no two acknowledged holders overlap: two holdings whose acquire and release
//      were both acknowledged never both held at once;
//   2. every acknowledged fenced write is in the final state exactly once: no two
//      acknowledged writes claim the same counter value, and the final value counts
//      every acknowledged write (plus at most the writes of unknown outcome);
//   3. no stale write is accepted: no write made as epoch f is acknowledged when a
//      holding with a larger epoch had been acknowledged before the write was sent;
//      and a holding that ended is never released by its former owner;
//   4. every lost ownership was reported to its holder: a holder overtaken while it
//      believed it held, that made an owner's op afterwards, was told ownership_lost;
//   5. epochs only grow: a holding acquired after another was acknowledged has a
//      larger epoch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mpstate::test::history {

enum class op_kind { acquire, write, release };
enum class outcome {
  pending,  // invoked; no completion recorded (killed mid-op): effect unknown
  ok,       // acknowledged
  lost,     // ownership_lost: refused, nothing changed, the holder told
  failed,   // another definite refusal (a timeout of acquire, not_found, ...)
  unknown,  // manager_unavailable in flight: it may or may not have been applied
};

struct event {
  int client = 0;  // the client process's number in the trial
  op_kind kind = op_kind::acquire;
  std::uint64_t fence = 0;  // the holding's epoch (acquire: the one granted)
  std::int64_t invoked_ns = 0;
  std::int64_t completed_ns = 0;  // 0: pending
  outcome result = outcome::pending;
  std::int64_t value = 0;  // write: the value written (read + 1)
};

// One client's log: a line per invocation and one per completion, each written whole
// with one write(2) to a file opened O_APPEND, so a SIGKILL loses at most the
// completion of the op in flight.
class log_writer {
 public:
  log_writer(const std::string& path, int client);
  ~log_writer();
  log_writer(const log_writer&) = delete;
  log_writer& operator=(const log_writer&) = delete;
  // Records the invocation; returns its number, for complete().
  std::uint64_t invoke(op_kind kind, std::uint64_t fence, std::int64_t value = 0);
  void complete(std::uint64_t op, outcome result, std::uint64_t fence = 0, std::int64_t value = 0);

 private:
  int fd_ = -1;
  int client_;
  std::uint64_t next_ = 0;
};

// Every event of the logs in `dir` (one file per client life), invocations paired
// with their completions.
std::vector<event> read_logs(const std::string& dir);
std::int64_t monotonic_ns();

struct report {
  std::size_t acquires = 0, writes_acked = 0, writes_unknown = 0, releases = 0, losses_reported = 0;
  std::size_t holdings_overtaken = 0;
  // Each violation found, as a sentence naming the check (1..5 above) and the events.
  std::vector<std::string> violations;
  // Violations by check number.
  std::map<int, std::size_t> by_check;
};

// `final_value`: the counter read after the trial, once every client stopped; -1 for
// a trial whose store may lose data (check 2 is then not made).
report check(const std::vector<event>& events, std::int64_t final_value);

std::string to_string(outcome o);

}  // namespace mpstate::test::history
