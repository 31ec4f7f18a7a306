// SPDX-License-Identifier: MIT
#include "churn_report.hpp"

#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "mpstate/core/names.hpp"
#include "mpstate/core/owned_segment.hpp"

namespace mpstate::bench {
namespace {

using steady = std::chrono::steady_clock;

double ns_per(steady::duration d, std::uint64_t n) {
  return std::chrono::duration<double, std::nano>(d).count() / static_cast<double>(n);
}

// Mean time of a lookup that misses, over names never created.
double miss_ns(const core::segment& s) {
  constexpr int misses = 200'000;
  int found = 0;
  const auto start = steady::now();
  for (int i = 0; i < misses; ++i) found += s.find("absent/" + std::to_string(i)) != nullptr;
  const auto took = steady::now() - start;
  return found == 0 ? ns_per(took, misses) : -1;
}

// Mean time of a create+delete of a new name, over `n` of them, with 100 live.
double cycle_ns(core::owned_segment& s, std::uint64_t& next, std::uint64_t n) {
  const auto start = steady::now();
  for (std::uint64_t i = 0; i < n; ++i, ++next) {
    s.create_variable("churn/" + std::to_string(next), core::value_type::int64);
    s.delete_variable("churn/" + std::to_string(next - 100));
  }
  return ns_per(steady::now() - start, n);
}

}  // namespace

nlohmann::json measure_churn(std::uint64_t cycles) {
  const std::string name = core::segment_name("bench-churn-" + std::to_string(getpid()));
  auto s = core::owned_segment::create_or_adopt(name, 64ull << 20);
  std::uint64_t next = 0;
  for (; next < 100; ++next) s->create_variable("churn/" + std::to_string(next), core::value_type::int64);
  const double fresh_miss = miss_ns(*s);
  const double fresh_cycle = cycle_ns(*s, next, 10'000);
  cycle_ns(*s, next, cycles);
  const double churned_cycle = cycle_ns(*s, next, 10'000);
  const double churned_miss = miss_ns(*s);
  const auto& h = s->header();
  nlohmann::json out = {{"cycles", cycles},
                        {"name_table_slots", h.directory_capacity},
                        {"tombstones_after", h.directory_tombstones},
                        {"lookup_miss_ns", {{"fresh", fresh_miss}, {"after", churned_miss}}},
                        {"lookup_miss_ratio", churned_miss / fresh_miss},
                        {"create_delete_per_s", {{"fresh", 1e9 / fresh_cycle}, {"after", 1e9 / churned_cycle}}}};
  s->unlink();
  return out;
}

}  // namespace mpstate::bench
