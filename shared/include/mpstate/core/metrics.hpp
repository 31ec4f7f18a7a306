// SPDX-License-Identifier: MIT
// The manager's figures in Prometheus's text format (version 0.0.4): what the
// manager's --metrics endpoint serves, what the `metrics` op answers, and what the
// Python dashboard serves for a Redis backend (from the client's stat and dump).
// docs/metrics.md lists every series.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mpstate/core/segment.hpp"

namespace mpstate::core {

// Per-variable series (loops, queues, locks) are capped: past this many of a kind,
// the rest are counted in mpstate_series_omitted{kind} instead (bounded cardinality).
constexpr std::size_t metrics_series_cap = 1000;

// How long the manager took to handle requests, in the histogram's buckets (the
// event-loop thread only: no atomics). Upper bounds in seconds; the last is +Inf.
struct latency_histogram {
  static constexpr std::array<double, 12> bounds{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5,
                                                 1e-4, 2.5e-4, 1e-3, 1e-2, 1e-1,   1.0};
  std::array<std::uint64_t, bounds.size() + 1> counts{};  // per bucket, not cumulative
  std::uint64_t count = 0;
  double sum_seconds = 0;
  void observe(std::chrono::nanoseconds took) noexcept;
  // {"bounds_seconds": [...], "counts": [...], "count", "sum_seconds"}: stat's "latency".
  nlohmann::json to_json() const;
};

// What a scrape needs of the variables, gathered on the manager's thread by one walk
// of the name table: count() each live record, then finish().
class metrics_census {
 public:
  void count(variable_record& r);
  // Binds the loops, queues and locks kept: the first metrics_series_cap of each
  // kind in name order (the rest are counted as omitted).
  void finish();
  std::map<std::string, std::uint64_t> by_type() const;
  const std::map<std::string, std::uint64_t>& omitted() const { return omitted_; }
  // The bound records (after finish()); metrics_sample unbinds them.
  std::vector<variable_record*>& kept() { return kept_; }

 private:
  std::array<std::uint64_t, 64> by_code_{};  // by value_type code
  std::map<std::string, std::uint64_t> omitted_{{"loop", 0}, {"queue", 0}, {"lock", 0}};
  std::vector<variable_record*> kept_;
};

// {"variables_by_type": {type: n}, "variables": [the dump's description of each kept
// loop, queue, lock, rlock and condition], "omitted": {kind: n}}; unbinds the kept
// records. Safe off the manager's thread (they are bound); never waits for a lock.
nlohmann::json metrics_sample(const segment& s, metrics_census census);

// The text: `stat` is the stat op's answer (fields it lacks give no series; a Redis
// backend's has fewer), `variables` a metrics_sample or a dump (whose every variable
// is then counted by type).
std::string prometheus_text(const nlohmann::json& stat, const nlohmann::json& variables);

}  // namespace mpstate::core
