// SPDX-License-Identifier: MIT
// The crash-torture harness: faults injected at random moments into real
// processes, each trial checked against the design's invariants.
//   torn writes   a writer SIGKILLed mid-write leaves the old value or the new one
//   dead holders  a process SIGKILLed inside update(fn) leaves the lock usable and
//                 the last committed value in place
//   manager crash the manager SIGKILLed and restarted under clients adding in a
//                 loop: no add lost, structure changes refused while it is down
//   crash points  the manager killed at each crash point of its structural changes
//                 in turn, adopted: all or nothing, and an allocator that still works
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace mpstate::torture {

// One line of the report.
struct outcome {
  std::string fault;  // what was done, e.g. "SIGKILL mid-set, string"
  int trials = 0;
  int torn = 0;           // a value that is neither the old one nor the new one
  int hung = 0;           // a lock not taken within the limit after the fault
  std::int64_t lost = 0;  // committed operations missing afterwards
  int other = 0;          // any other wrong result (message in `notes`)
  double worst_ms = 0;    // slowest recovery seen
  std::vector<std::string> notes;
  bool passed() const { return torn == 0 && hung == 0 && lost == 0 && other == 0; }
};

struct settings {
  std::string manager_executable;
  int trials = 50;
  int restarts = 10;
  std::uint64_t seed = 0;
  int crash_stride = 1;           // crash points: try every stride-th point
  int further = 500;              // crash points: create+delete pairs after each adoption
  bool list_points = false;       // crash points: name every point reached in the report
  double stop_p99_limit_ms = 10;  // stop: the other client's p99 while one is stopped
};

// Each runs its own manager; kinds: string, json, pair (int64 pair via update).
outcome torn_write_trials(const std::string& kind, const settings& s, std::mt19937_64& rng);
// kinds: string, int64.
outcome dead_holder_trials(const std::string& kind, const settings& s, std::mt19937_64& rng);
outcome manager_crash_trials(const settings& s, std::mt19937_64& rng);
outcome crash_point_trials(const settings& s, std::mt19937_64& rng);
// A client SIGSTOPped in each kind of op: one row per kind.
std::vector<outcome> stopped_client_trials(const settings& s, std::mt19937_64& rng);
// The manager killed at a random instruction inside a structural function (gdb).
outcome random_instruction_trials(const settings& s, std::mt19937_64& rng);
// A queue's producer and consumer killed mid-stream.
outcome queue_trials(const settings& s, std::mt19937_64& rng);

// Self-checking values: each sequence number has exactly one valid encoding, of
// varying length (40-980 bytes), so a mix of two writes (or a half-written one)
// never decodes.
std::string text_of(std::int64_t seq);
std::optional<std::int64_t> seq_of_text(const std::string& text);

}  // namespace mpstate::torture
