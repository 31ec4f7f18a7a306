// SPDX-License-Identifier: MIT
#include "bench_types.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mpstate::bench {

nlohmann::json run_result::to_json() const {
  return {{"system", system},
          {"variant", variant},
          {"op", op},
          {"procs", procs},
          {"value_size", value_size},
          {"variables", variables},
          {"ops_per_s", ops_per_s},
          {"per_process_ops_per_s", per_process_ops_per_s},
          {"p50_ns", p50_ns},
          {"p99_ns", p99_ns},
          {"p999_ns", p999_ns},
          {"server_cpu_us_per_op", server_cpu_us_per_op >= 0 ? nlohmann::json(server_cpu_us_per_op) : nullptr},
          {"check", check}};
}

run_result summarise(const std::string& system, const std::string& variant, const bench_options& o,
                     const std::vector<const worker_slot*>& slots) {
  run_result r;
  r.system = system;
  r.variant = variant;
  r.op = o.op;
  r.procs = static_cast<int>(slots.size());
  r.value_size = o.value_size;
  r.variables = o.variables;
  r.check = "n/a";
  std::vector<float> samples;
  for (const worker_slot* s : slots) {
    if (s->exit_code != 0) throw std::runtime_error(s->error);
    double secs = static_cast<double>(s->elapsed_ns) / 1e9;
    double rate = secs > 0 ? static_cast<double>(s->ops) / secs : 0;
    r.per_process_ops_per_s.push_back(rate);
    r.ops += s->ops;
    r.ops_per_s += rate;
    samples.insert(samples.end(), s->samples, s->samples + s->sample_count);
  }
  if (!samples.empty()) {
    std::sort(samples.begin(), samples.end());
    auto at = [&](double q) {
      return static_cast<double>(samples[std::min(samples.size() - 1, static_cast<std::size_t>(q * samples.size()))]);
    };
    r.p50_ns = at(0.5);
    r.p99_ns = at(0.99);
    r.p999_ns = at(0.999);
  }
  return r;
}

}  // namespace mpstate::bench
