// SPDX-License-Identifier: MIT
#include "mpstate/core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include "mpstate/core/binding_ledger.hpp"
#include "mpstate/core/dump.hpp"
#include "mpstate/core/process_identity.hpp"

namespace mpstate::core {
namespace {

using json = nlohmann::json;

// The per-variable kinds: a loop, a queue, or something one holds (lock, rlock, condition).
const char* kind_of(value_type t) {
  switch (t) {
    case value_type::loop:
      return "loop";
    case value_type::queue:
      return "queue";
    case value_type::lock:
    case value_type::rlock:
    case value_type::condition:
      return "lock";
    default:
      return nullptr;
  }
}

std::string number(double v) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return ec == std::errc() ? std::string(buffer, end) : std::string("NaN");
}

// A label value, escaped as the text format asks (backslash, quote, newline).
std::string label_value(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

class exposition {
 public:
  // # HELP and # TYPE, once per family.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    text_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    text_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void sample(std::string_view name, double value,
              const std::vector<std::pair<std::string, std::string>>& labels = {}) {
    text_.append(name);
    if (!labels.empty()) {
      text_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) text_ += ',';
        text_.append(labels[i].first).append("=").append(label_value(labels[i].second));
      }
      text_ += '}';
    }
    text_.append(" ").append(number(value)).append("\n");
  }
  // A family of one sample, from a stat field when the stat has it.
  void from_stat(const json& stat, const char* field, std::string_view name, std::string_view type,
                 std::string_view help, double scale = 1) {
    if (!stat.contains(field) || !stat.at(field).is_number()) return;
    family(name, type, help);
    sample(name, stat.at(field).get<double>() * scale);
  }
  std::string text() && { return std::move(text_); }

 private:
  std::string text_;
};

void manager_series(exposition& x, const json& stat) {
  x.from_stat(stat, "uptime_ms", "mpstate_uptime_seconds", "gauge", "Seconds since the manager started.", 1e-3);
  x.from_stat(stat, "size", "mpstate_segment_size_bytes", "gauge", "The shared-memory segment's size.");
  x.from_stat(stat, "free_bytes", "mpstate_segment_free_bytes", "gauge", "Heap bytes free in the segment.");
  if (stat.contains("size") && stat.contains("free_bytes")) {
    x.family("mpstate_segment_used_bytes", "gauge", "Segment bytes in use (size - free).");
    x.sample("mpstate_segment_used_bytes", stat.at("size").get<double>() - stat.at("free_bytes").get<double>());
  }
  x.from_stat(stat, "connections", "mpstate_connections", "gauge", "Connections open to the manager.");
  x.from_stat(stat, "bindings", "mpstate_bindings", "gauge", "Bindings of processes to variables.");
  x.from_stat(stat, "binding_processes", "mpstate_binding_processes", "gauge", "Processes holding a binding.");
  x.from_stat(stat, "waits_pending", "mpstate_waits_pending", "gauge", "Socket waits pending.");
  x.from_stat(stat, "leases", "mpstate_leases", "gauge", "TCP connections holding a lease.");
  x.from_stat(stat, "bytes_in", "mpstate_received_bytes_total", "counter", "Request bytes read.");
  x.from_stat(stat, "bytes_out", "mpstate_sent_bytes_total", "counter", "Answer bytes written.");
  x.from_stat(stat, "auth_failures", "mpstate_auth_failures_total", "counter", "TCP handshakes refused.");
  x.from_stat(stat, "handshakes_dropped", "mpstate_handshakes_dropped_total", "counter",
              "TCP handshakes let go to make room for newer ones.");
  if (const auto counters = stat.find("counters"); counters != stat.end()) {
    x.family("mpstate_ops_total", "counter", "Requests answered by the manager, by op.");
    for (const auto& [op, n] : counters->at("ops").items())
      x.sample("mpstate_ops_total", n.get<double>(), {{"op", op}});
    x.family("mpstate_errors_total", "counter", "Error answers, by error code.");
    for (const auto& [code, n] : counters->at("errors").items())
      x.sample("mpstate_errors_total", n.get<double>(), {{"code", code}});
  }
  if (const auto latency = stat.find("latency"); latency != stat.end()) {
    const char* name = "mpstate_request_duration_seconds";
    x.family(name, "histogram", "Time the manager took to handle a request (a wait's waiting excluded).");
    const auto& bounds = latency->at("bounds_seconds");
    const auto& counts = latency->at("counts");
    double cumulative = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i].get<double>();
      x.sample("mpstate_request_duration_seconds_bucket", cumulative,
               {{"le", i < bounds.size() ? number(bounds[i].get<double>()) : "+Inf"}});
    }
    x.sample("mpstate_request_duration_seconds_sum", latency->at("sum_seconds").get<double>());
    x.sample("mpstate_request_duration_seconds_count", latency->at("count").get<double>());
  }
}

void variable_series(exposition& x, const json& variables) {
  std::map<std::string, double> by_type;
  if (const auto counted = variables.find("variables_by_type"); counted != variables.end()) {
    for (const auto& [type, n] : counted->items()) by_type[type] = n.get<double>();
  } else {
    for (const auto& v : variables.at("variables")) by_type[v.at("type").get<std::string>()] += 1;
  }
  x.family("mpstate_variables", "gauge", "Variables in the segment, by type.");
  for (const auto& [type, n] : by_type) x.sample("mpstate_variables", n, {{"type", type}});

  std::vector<const json*> loops, queues, locks;
  std::map<std::string, double> omitted{{"loop", 0}, {"queue", 0}, {"lock", 0}};
  for (const auto& v : variables.at("variables")) {
    if (!v.contains("value") || !v.at("value").is_object()) continue;  // unreadable now
    const char* kind = kind_of(value_type_from_string(v.at("type").get<std::string>()));
    if (!kind) continue;
    const std::string_view k = kind;
    auto& list = k == "loop" ? loops : k == "queue" ? queues : locks;
    if (list.size() < metrics_series_cap)
      list.push_back(&v);
    else
      omitted[kind] += 1;
  }
  if (const auto more = variables.find("omitted"); more != variables.end()) {
    for (const auto& [kind, n] : more->items()) omitted[kind] += n.get<double>();
  }
  const auto name_of = [](const json* v) { return v->at("name").get<std::string>(); };

  x.family("mpstate_loop_state", "gauge", "1 for the state each loop is in (idle, starting, running, ...).");
  for (const json* v : loops) {
    const std::string state = v->at("value").at("state").get<std::string>();
    for (auto phase : {LoopPhase::idle, LoopPhase::starting, LoopPhase::running, LoopPhase::stopping,
                       LoopPhase::stopped, LoopPhase::failed}) {
      const std::string phase_name(to_string(phase));
      x.sample("mpstate_loop_state", state == phase_name ? 1 : 0, {{"name", name_of(v)}, {"state", phase_name}});
    }
  }
  x.family("mpstate_loop_heartbeat_age_seconds", "gauge", "Seconds since each loop's owner last beat.");
  for (const json* v : loops) {
    const auto age_ms = v->at("value").at("heartbeat_age_ms").get<double>();
    if (age_ms >= 0) x.sample("mpstate_loop_heartbeat_age_seconds", age_ms / 1e3, {{"name", name_of(v)}});
  }
  // A family of one sample per variable: a number field of its value, labelled by name.
  const auto per_variable = [&](const std::vector<const json*>& of, std::string_view family, std::string_view type,
                                std::string_view help, const char* field) {
    x.family(family, type, help);
    for (const json* v : of) x.sample(family, v->at("value").at(field).get<double>(), {{"name", name_of(v)}});
  };
  per_variable(loops, "mpstate_loop_iterations_total", "counter", "Iterations each loop's owner reported.",
               "iterations");
  per_variable(queues, "mpstate_queue_depth", "gauge", "Items in each queue.", "size");
  per_variable(queues, "mpstate_queue_unfinished", "gauge",
               "Items of each queue put and not yet marked done (task_done).", "unfinished");
  per_variable(queues, "mpstate_queue_puts_total", "counter", "Items ever put into each queue.", "puts");

  // A lock's last write is its acquisition while it is held (release writes too).
  const std::int64_t now = now_ns();
  x.family("mpstate_lock_held", "gauge", "1 while each lock, rlock or condition is held.");
  for (const json* v : locks) {
    x.sample("mpstate_lock_held", v->at("value").at("locked").get<bool>() ? 1 : 0,
             {{"name", name_of(v)}, {"type", v->at("type").get<std::string>()}});
  }
  x.family("mpstate_lock_held_seconds", "gauge", "How long each held lock has been held (0 when free).");
  for (const json* v : locks) {
    const bool held = v->at("value").at("locked").get<bool>();
    const auto since = v->at("last_write_ns").get<std::int64_t>();
    x.sample("mpstate_lock_held_seconds", held && since > 0 ? static_cast<double>(now - since) / 1e9 : 0,
             {{"name", name_of(v)}, {"type", v->at("type").get<std::string>()}});
  }
  x.family("mpstate_series_omitted", "gauge",
           "Variables of a kind past the per-kind series cap (1000), left out of the per-variable series.");
  for (const auto& [kind, n] : omitted) x.sample("mpstate_series_omitted", n, {{"kind", kind}});
}

}  // namespace

void latency_histogram::observe(std::chrono::nanoseconds took) noexcept {
  const double seconds = static_cast<double>(took.count()) / 1e9;
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  ++counts[i];
  ++count;
  sum_seconds += seconds;
}

nlohmann::json latency_histogram::to_json() const {
  return {{"bounds_seconds", bounds}, {"counts", counts}, {"count", count}, {"sum_seconds", sum_seconds}};
}

void metrics_census::count(variable_record& r) {
  if (r.flags.load(std::memory_order_acquire) & record_flags_unusable) return;
  ++by_code_[static_cast<std::size_t>(r.type) % by_code_.size()];
  if (kind_of(r.type)) kept_.push_back(&r);
}

std::map<std::string, std::uint64_t> metrics_census::by_type() const {
  std::map<std::string, std::uint64_t> out;
  for (std::size_t code = 0; code < by_code_.size(); ++code) {
    if (by_code_[code]) out[std::string(to_string(static_cast<value_type>(code)))] = by_code_[code];
  }
  return out;
}

void metrics_census::finish() {
  std::sort(kept_.begin(), kept_.end(),
            [](const variable_record* a, const variable_record* b) { return a->name_view() < b->name_view(); });
  std::map<std::string_view, std::size_t> of_kind;
  std::erase_if(kept_, [&](variable_record* r) {
    const char* kind = kind_of(r->type);
    if (of_kind[kind]++ < metrics_series_cap) return false;
    ++omitted_[kind];
    return true;
  });
  for (variable_record* r : kept_) bind_record(*r);
}

nlohmann::json metrics_sample(const segment& s, metrics_census census) {
  json described = json::array();
  // Every kept record is unbound, whatever describing one of them throws: a binding
  // left behind would keep a deleted variable's record for the manager's whole life.
  for (variable_record* r : census.kept()) {
    try {
      if (auto v = describe_bound(s, r)) described.push_back(*std::move(v));
    } catch (const std::exception&) {  // left out of this scrape (describe_bound answers mpstate's errors itself)
    }
    segment::unbind(r);
  }
  return {{"variables_by_type", census.by_type()}, {"variables", std::move(described)}, {"omitted", census.omitted()}};
}

std::string prometheus_text(const nlohmann::json& stat, const nlohmann::json& variables) {
  exposition x;
  x.family("mpstate_info", "gauge", "1, labelled with the manager's name, version and segment (or Redis URL).");
  std::vector<std::pair<std::string, std::string>> labels;
  for (const char* field : {"manager", "version", "segment", "url"}) {
    if (stat.contains(field) && stat.at(field).is_string())
      labels.emplace_back(field, stat.at(field).get<std::string>());
  }
  x.sample("mpstate_info", 1, labels);
  manager_series(x, stat);
  variable_series(x, variables);
  return std::move(x).text();
}

}  // namespace mpstate::core
