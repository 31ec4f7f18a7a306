// SPDX-License-Identifier: MIT
// The ops about the manager itself: hello, list, stat, dump, wait, shutdown, auth, metrics.
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "mpstate/core/binding_ledger.hpp"
#include "mpstate/core/dump.hpp"
#include "mpstate/core/metrics.hpp"
#include "mpstate/version.hpp"
#include "op_handlers.hpp"
#include "wait_pool.hpp"

namespace mpstate::manager {

using namespace mpstate::core;

json op_counters(const server_facts& facts) {
  json ops = json::object(), errors = json::object();
  for (const op_spec& op : op_table()) {
    if (auto n = facts.ops_by_code[index_of(op.code)]) ops[std::string(op.name)] = n;
  }
  for (std::size_t code = 1; code <= static_cast<std::size_t>(errc::internal); ++code) {
    if (auto n = facts.errors_by_code[code]) errors[std::string(to_string(static_cast<errc>(code)))] = n;
  }
  return {{"ops", std::move(ops)}, {"errors", std::move(errors)}};
}

namespace ops {

// docs/protocol.md, "Versions": the wire is served to any client of protocol 1..ours;
// mapping the segment needs the same layout.
json hello(op_call& call) {
  auto layout = optional_integer(call.request, "layout_version", layout_version);
  if (layout != layout_version) {
    throw error(errc::layout_mismatch,
                "client speaks segment layout " + std::to_string(layout) + ", this manager (mpstate " +
                    std::string(version) + ") layout " + std::to_string(layout_version) +
                    ": use a client of the same mpstate release, or one that speaks only the wire "
                    "(no layout_version in hello)");
  }
  auto protocol = optional_integer(call.request, "protocol_version", protocol_version);
  if (protocol < 1 || protocol > protocol_version) {
    throw error(errc::layout_mismatch, "client speaks protocol " + std::to_string(protocol) +
                                           ", this manager (mpstate " + std::string(version) + ") protocols 1.." +
                                           std::to_string(protocol_version));
  }
  return {{"manager", call.facts.manager_name},
          {"segment", call.segment.shm_name()},
          {"segment_size", call.segment.size()},
          {"layout_version", layout_version},
          {"protocol_version", protocol_version},
          {"manager_pid", getpid()},
          {"version", version},
          {"incarnation", incarnation_text(call.segment.incarnation())}};
}

json list(op_call& call) {
  json names = json::array();
  for (variable_record* r : call.segment.list(optional_string(call.request, "prefix", ""))) {
    names.push_back(std::string(r->name_view()));
  }
  return {{"names", std::move(names)}};
}

json stat(op_call& call) {
  const owned_segment& segment = call.segment;
  const server_facts& facts = call.facts;
  const segment_header& h = segment.header();
  const auto bindings = segment.count_bindings();
  return {{"manager", facts.manager_name},
          {"version", version},
          {"manager_pid", getpid()},
          {"segment", segment.shm_name()},
          {"size", segment.size()},
          {"free_bytes", segment.free_bytes()},
          {"variables", h.directory_used},
          {"name_capacity", h.directory_capacity / 4 * 3},
          {"retired_records", segment.retired_count()},
          {"bindings", bindings.bindings},
          {"bindings_ledgered", bindings.ledgered},
          {"binding_processes", bindings.processes},
          {"bindings_reclaimed", segment.bindings_reclaimed()},
          {"ledger_sweeps", segment.full_sweeps()},
          {"variables_collected", segment.variables_collected()},
          {"connections", facts.connections},
          {"answer_bytes_held", facts.answer_bytes_held},
          {"waits_pending", facts.waits ? facts.waits->pending() : 0},
          {"wait_threads", facts.waits ? facts.waits->threads() : 0},
          {"adopted", segment.adopted()},
          {"uptime_ms", (now_ns() - facts.started_ns) / 1'000'000},
          {"bytes_in", facts.bytes_in},
          {"bytes_out", facts.bytes_out},
          {"listening", facts.listening},
          {"metrics", facts.metrics_address},
          {"other_users_admitted", facts.other_users_admitted},
          {"auth_failures", facts.auth_failures},
          {"leases", facts.leases},
          {"handshakes_pending", facts.handshakes_pending},
          {"handshakes_dropped", facts.handshakes_dropped},
          {"busy_poll_us", facts.busy_poll_us},
          {"starter_gone", facts.starter_gone},
          {"counters", op_counters(facts)},
          {"latency", facts.latency.to_json()}};
}

// The figures (stat, made here on the event loop) and the variables (sampled off it,
// as a dump is) in Prometheus's text format: what --metrics serves.
json metrics(op_call& call) {
  metrics_census census;
  call.segment.for_each_variable([&](variable_record& r) { census.count(r); });
  census.finish();
  call.later = [figures = stat(call), &segment = call.segment, census = std::move(census)]() mutable {
    return json{{"text", prometheus_text(figures, metrics_sample(segment, std::move(census)))}};
  };
  return nullptr;
}

// Every variable: made off the event loop (its lookups lock, its records are bound).
json dump(op_call& call) {
  call.later = [&segment = call.segment, prefix = optional_string(call.request, "prefix", "")] {
    return dump_json(segment, prefix);
  };
  return nullptr;
}

json wait(op_call& call) {
  variable_record& r = call.existing();
  if (!has_versions(r.type)) {
    throw error(errc::type_mismatch,
                typed_name(r) + " cannot be waited on: its writes move no version (read it instead)");
  }
  auto seen = require_integer(call.request, "version");
  auto timeout_ms = std::clamp<std::int64_t>(optional_integer(call.request, "timeout_ms", 1000), 0, 3'600'000);
  bind_record(r);
  call.wait = pending_wait{nullptr, &r, static_cast<std::uint64_t>(seen),
                           std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)};
  return nullptr;
}

json shutdown(op_call& call) {
  call.facts.shutdown_requested = true;
  return json::object();
}

// The connection answers a TCP peer's first auth itself.
json auth(op_call& call) {
  throw error(errc::invalid_argument, call.peer.remote ? "this connection is already authenticated"
                                                       : "auth is for TCP connections (a Unix socket's peer is "
                                                         "checked by its uid)");
}

}  // namespace ops
}  // namespace mpstate::manager
