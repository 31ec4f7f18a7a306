// SPDX-License-Identifier: MIT
#include "request_handler.hpp"

#include "mpstate/version.hpp"

#include "wait_pool.hpp"

#include "mpstate/core/array_ops.hpp"
#include "mpstate/core/binding_ledger.hpp"
#include "mpstate/core/dump.hpp"
#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/queue_ops.hpp"
#include "mpstate/core/record_ops.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "fast_path.hpp"

namespace mpstate::manager {

using namespace mpstate::core;

namespace {
// Writes a request makes are stamped with the peer's pid (core::writing_for_pid),
// and core::manager_committed says whether one committed.
struct writing_for {
  explicit writing_for(pid_t pid) {
    core::writing_for_pid = pid;
    core::manager_committed = false;
  }
  ~writing_for() { core::writing_for_pid = 0; }
  writing_for(const writing_for&) = delete;
  writing_for& operator=(const writing_for&) = delete;
};
}  // namespace

json answer_now(const handler_outcome& out) {
  if (!out.deferred) return out.response;
  try {
    return make_result(out.deferred_id, out.deferred());
  } catch (const error& e) {
    return make_error(out.deferred_id, e.code(), e.message());
  } catch (const std::exception& e) {
    return make_error(out.deferred_id, errc::internal, e.what());
  }
}

handler_outcome request_handler::handle_line(std::string_view line, const peer_context& peer) {
  if (auto answer = answer_plain(line, peer)) return *std::move(answer);
  try {
    check_json_depth(line);
  } catch (const error& e) {
    return {make_error(nullptr, e.code(), e.message()), {}};
  }
  json request;
  try {
    request = json::parse(line);
  } catch (const json::parse_error& e) {
    // The position only: the parser's own text quotes the input, which may not be UTF-8.
    return {make_error(nullptr, errc::bad_request,
                       "the line is not valid JSON (at byte " + std::to_string(e.byte) + ")"),
            {}};
  } catch (const json::exception&) {  // 406: a number such as 1e400 overflows a double
    return {make_error(nullptr, errc::out_of_range, "a number in the line is beyond the range of a double"), {}};
  }
  handler_outcome out = handle(request, peer);
  if (request.is_object() && request.contains("id")) {
    out.exact_id = exact_number_id(line, request["id"]);
    if (out.wait) out.wait->exact_id = out.exact_id;
  }
  return out;
}

handler_outcome request_handler::handle(const json& request, const peer_context& peer) {
  if (!request.is_object()) {
    return {make_error(nullptr, errc::bad_request, "a request must be a JSON object"), {}};
  }
  json id = request.contains("id") ? request["id"] : json(nullptr);
  bool read_only = false;
  const op_spec* op = nullptr;
  try {
    const json& op_field = require_field(request, "op");
    if (!op_field.is_string()) throw error(errc::bad_request, "field 'op' must be a string");
    op = find_op(op_field.get_ref<const std::string&>());
    if (!op) throw error(errc::unknown_op, "unknown op '" + op_field.get<std::string>() + "'");
    std::optional<pending_wait> wait;
    writing_for stamp(peer.process.pid);  // a TCP peer without a lease yet: the manager's own
    read_only = only_reads(op->code);
    if (peer.read_only && !read_only) {
      throw error(errc::permission_denied, "this connection's key is read-only: '" + std::string(op->name) +
                                               "' changes state");
    }
    std::function<json()> later;
    json result = dispatch(op->code, request, peer, wait, later);
    ++facts_.ops_by_code[static_cast<std::size_t>(op->code)];
    if (wait) {
      wait->id = id;
      return {json(), std::move(wait)};
    }
    if (later) {
      handler_outcome out{json(), {}, false, {}, read_only};
      out.deferred = std::move(later);
      out.deferred_id = id;
      return out;
    }
    return {make_result(id, std::move(result)), {}, false, {}, read_only};
  } catch (const error& e) {
    const bool retry = e.code() == errc::busy && !core::manager_committed;  // never retry a change already made
    if (!retry) {
      ++facts_.errors_by_code[static_cast<std::size_t>(e.code())];
      if (op) ++facts_.ops_by_code[static_cast<std::size_t>(op->code)];
    }
    if (e.code() == errc::busy && core::manager_committed) {
      return {make_error(id, e.code(), e.message() + " (the request was partly applied before it)"), {}};
    }
    return {make_error(id, e.code(), e.message()), {}, retry};
  } catch (const std::exception& e) {
    ++facts_.errors_by_code[static_cast<std::size_t>(errc::internal)];
    return {make_error(id, errc::internal, e.what()), {}};
  }
}

// The same calls as the general get, set, add and cas (dispatch), answered as they would
// be, byte for byte. Anything the general path would treat otherwise (a missing or
// other-typed variable, a read-only peer's write, a busy record) goes there, unless
// a write already committed: then its error is answered here.
std::optional<handler_outcome> request_handler::answer_plain(std::string_view line, const peer_context& peer) {
  const auto request = parse_plain_request(line);
  if (!request || (request->op != op_code::get && peer.read_only)) return std::nullopt;
  variable_record* r = nullptr;
  try {
    validate_variable_name(request->name);
    r = segment_.find(request->name);
  } catch (...) {
    return std::nullopt;
  }
  if (!r || (request->op == op_code::get ? !is_scalar(r->type) : r->type != value_type::int64)) return std::nullopt;
  handler_outcome out;
  writing_for stamp(peer.process.pid);
  try {
    switch (request->op) {
      case op_code::get: {
        const json value = read_json_value(*r);
        out.text = format_answer(request->id, get_result(to_string(r->type), value, r->version.load()));
        break;
      }
      case op_code::set:
        write_json_value(*r, json(request->number));
        out.text = format_answer(request->id, R"({"version":)" + std::to_string(r->version.load()) + "}");
        break;
      case op_code::cas:
        out.text = format_answer(
            request->id, compare_exchange_json_value(*r, json(request->number), json(request->desired)).dump());
        break;
      default:
        out.text = format_answer(request->id, R"({"value":)" + add_json_value(*r, json(request->number)).dump() + "}");
        break;
    }
  } catch (const error& e) {
    if (!core::manager_committed) return std::nullopt;  // nothing changed: the general path decides
    ++facts_.errors_by_code[static_cast<std::size_t>(e.code())];
    out.text = to_line(make_error(request->id.empty() ? json() : json::parse(request->id), e.code(), e.message()));
  }
  ++facts_.ops_by_code[static_cast<std::size_t>(request->op)];
  return out;
}

json request_handler::counters() const {
  json ops = json::object(), errors = json::object();
  for (const op_spec& op : op_table()) {
    if (auto n = facts_.ops_by_code[static_cast<std::size_t>(op.code)]) ops[std::string(op.name)] = n;
  }
  for (std::size_t code = 1; code <= static_cast<std::size_t>(errc::internal); ++code) {
    if (auto n = facts_.errors_by_code[code]) errors[std::string(to_string(static_cast<errc>(code)))] = n;
  }
  return {{"ops", std::move(ops)}, {"errors", std::move(errors)}};
}

template <class Write>
variable_record* request_handler::growing(const std::string& name, variable_record* r, Write&& write) {
  try {
    write(*r);
    return r;
  } catch (const buffer_too_small& e) {
    r = segment_.grow_variable(name, e.needed());  // then the value fits
    write(*r);
    return r;
  }
}

variable_record& request_handler::existing(const json& request) {
  std::string name = require_string(request, "name");
  validate_variable_name(name);
  variable_record* r = segment_.find(name);
  if (!r) throw error(errc::not_found, "no variable '" + name + "'");
  return *r;
}

// The owner a loop op acts for: the peer (from SO_PEERCRED), or an explicit "pid"
// of a process that is alive (so a helper may act for a process it manages). Over
// TCP: the connection's lease, and no "pid" (a remote pid means nothing here).
process_identity request_handler::owner_of(const json& request, const peer_context& peer) {
  if (peer.remote) {
    if (request.contains("pid")) {
      throw error(errc::invalid_argument, "'pid' is not accepted over TCP: what a remote client owns is "
                                          "held by its connection's lease");
    }
    return peer.lease();
  }
  if (!request.contains("pid")) return peer.process;
  auto pid = static_cast<pid_t>(require_integer(request, "pid"));
  process_identity who{pid, process_start_time(pid)};
  if (who.start_time == 0) {
    throw error(errc::invalid_argument, "no process " + std::to_string(pid));
  }
  return who;
}

// A sync op's actor: the owner as for loops, and the thread an rlock client names.
sync_actor request_handler::actor_of(const json& request, const peer_context& peer) {
  return {owner_of(request, peer), static_cast<std::int32_t>(optional_integer(request, "tid", 0))};
}

// A request's "epoch": the ownership an owner's op is made as (release, loop_mark,
// loop_heartbeat). Absent: the op is made as whoever sends it, as before epochs.
std::optional<std::uint64_t> request_handler::epoch_of(const json& request) {
  if (!request.contains("epoch")) return std::nullopt;
  const json& e = request["epoch"];
  if (!e.is_number_unsigned() && !(e.is_number_integer() && e.get<std::int64_t>() >= 0)) {
    throw error(errc::bad_request, "field 'epoch' must be an integer >= 0");
  }
  return e.get<std::uint64_t>();
}

// set, add and cas may carry a lock's fence: {"lock": NAME, "epoch": N}.
std::optional<request_handler::fence_spec> request_handler::fence_of(const json& request) {
  auto it = request.find("fence");
  if (it == request.end()) return std::nullopt;
  if (!it->is_object()) throw error(errc::bad_request, "field 'fence' must be an object {\"lock\": NAME, \"epoch\": N}");
  fence_spec f{require_string(*it, "lock"), 0};
  validate_variable_name(f.lock);
  const auto epoch = epoch_of(*it);
  if (!epoch) throw error(errc::missing_field, "missing field 'epoch' in 'fence'");
  f.epoch = *epoch;
  return f;
}

variable_record& request_handler::fence_lock(const fence_spec& f) {
  variable_record* lock = segment_.find(f.lock);
  if (!lock) throw error(errc::ownership_lost, "the fence's lock '" + f.lock + "' does not exist (deleted?)");
  return *lock;
}

json request_handler::dispatch(op_code op, const json& request, const peer_context& peer,
                               std::optional<pending_wait>& wait, std::function<json()>& later) {
  switch (op) {
    case op_code::hello: {
      // docs/protocol.md, "Versions": the wire is served to any client of protocol
      // 1..ours; mapping the segment needs the same layout.
      auto layout = optional_integer(request, "layout_version", layout_version);
      if (layout != layout_version) {
        throw error(errc::layout_mismatch,
                    "client speaks segment layout " + std::to_string(layout) + ", this manager (mpstate " +
                        std::string(version) + ") layout " + std::to_string(layout_version) +
                        ": use a client of the same mpstate release, or one that speaks only the wire "
                        "(no layout_version in hello)");
      }
      auto protocol = optional_integer(request, "protocol_version", protocol_version);
      if (protocol < 1 || protocol > protocol_version) {
        throw error(errc::layout_mismatch, "client speaks protocol " + std::to_string(protocol) +
                                               ", this manager (mpstate " + std::string(version) +
                                               ") protocols 1.." + std::to_string(protocol_version));
      }
      return {{"manager", facts_.manager_name},       {"segment", segment_.shm_name()},
              {"segment_size", segment_.size()},      {"layout_version", layout_version},
              {"protocol_version", protocol_version}, {"manager_pid", getpid()},
              {"version", version},                   {"incarnation", incarnation_text(segment_.incarnation())}};
    }
    case op_code::create: {
      std::string name = require_string(request, "name");
      value_type type = value_type_from_string(require_string(request, "type"));
      auto capacity = optional_integer(request, "capacity", 0);
      if (capacity < 0) throw error(errc::invalid_argument, "capacity must not be negative");
      const json initial = request.contains("value") ? request["value"] : json();
      std::optional<queue_spec> queue;
      if (type == value_type::queue) {
        validate_variable_name(name);
        queue = queue_spec_from_json(name, initial);
        capacity = static_cast<std::int64_t>(queue_capacity(*queue));
      }
      if (is_sequence(type)) {
        validate_variable_name(name);
        capacity = std::max<std::int64_t>(capacity, static_cast<std::int64_t>(
                                                        sequence_spec_from_json(name, type, initial).capacity));
      }
      const bool has_value = request.contains("value");
      variable_record* r = segment_.create_variable(
          name, type, static_cast<std::uint64_t>(capacity), [&](variable_record& v) {
            if (queue) init_queue(v, *queue);
            else if (is_sequence(type)) init_sequence(v, initial);
            else if (is_sync(type)) init_sync(v, initial);
            else if (has_value) write_json_value(v, initial);  // buffer_too_small: a larger record
          });
      return {{"name", name}, {"type", to_string(type)}, {"capacity", r->capacity},
              {"version", r->version.load()}};
    }
    case op_code::set: {
      std::string name = require_string(request, "name");
      const json& value = require_field(request, "value");
      validate_variable_name(name);
      variable_record* r = segment_.find(name);
      if (!r) {
        auto capacity = optional_integer(request, "capacity", 0);
        if (capacity < 0) throw error(errc::invalid_argument, "capacity must not be negative");
        value_type type = type_for_json(value);
        std::uint64_t cap = static_cast<std::uint64_t>(capacity);
        if (!is_scalar(type) && cap == 0) {
          std::size_t need = type == value_type::string ? value.get_ref<const std::string&>().size()
                                                        : encode_json_text(value).size();
          cap = std::max<std::uint64_t>(default_buffer_capacity, need);
        }
        auto create = [&] {
          return segment_.create_variable(name, type, cap, [&](variable_record& v) { write_json_value(v, value); });
        };
        const std::optional<fence_spec> fence = fence_of(request);
        r = fence ? fenced(fence_lock(*fence), fence->epoch, create) : create();
        return {{"version", r->version.load()}};
      }
      r = growing(name, r, [&](variable_record& v) { as_fenced(request, v, [&] { write_json_value(v, value); }); });
      return {{"version", r->version.load()}};
    }
    case op_code::get: {
      variable_record& r = existing(request);
      if (r.capacity > deferred_answer_bytes &&
          (r.type == value_type::string || r.type == value_type::bytes || r.type == value_type::json)) {
        // A large value: its bytes are copied here (under its lock, as any read), and
        // turned into JSON off the event loop.
        std::string bytes;
        const std::uint64_t version = read_buffer(r, bytes);
        later = [type = r.type, version, bytes = std::move(bytes)] {
          json result(json::value_t::object);
          result["value"] = element_to_json(type, bytes);
          result["version"] = version;
          result["type"] = to_string(type);
          return result;
        };
        return nullptr;
      }
      json result(json::value_t::object);  // the hottest op: no initializer-list temporaries
      result["value"] = read_json_value(r);
      result["version"] = r.version.load();
      result["type"] = to_string(r.type);
      return result;
    }
    case op_code::add: {
      variable_record& r = existing(request);
      const json& delta = require_field(request, "delta");
      return {{"value", as_fenced(request, r, [&] { return add_json_value(r, delta); })}};
    }
    case op_code::cas: {
      json result;
      growing(require_string(request, "name"), &existing(request), [&](variable_record& v) {
        as_fenced(request, v, [&] {
          result = compare_exchange_json_value(v, require_field(request, "expected"), require_field(request, "desired"));
        });
      });
      return result;
    }
    case op_code::grow: {
      auto capacity = optional_integer(request, "capacity", 0);
      auto items = optional_integer(request, "items", 0);
      if (capacity < 0 || items < 0) throw error(errc::invalid_argument, "capacity and items must not be negative");
      if (!request.contains("capacity") && !request.contains("items")) {
        throw error(errc::missing_field, "grow needs 'capacity' (or, for an unbounded queue, 'items')");
      }
      variable_record* r = segment_.grow_variable(
          require_string(request, "name"), {static_cast<std::uint64_t>(capacity), static_cast<std::uint64_t>(items)});
      return {{"capacity", r->capacity}, {"version", r->version.load()}};
    }
    case op_code::delete_: {
      std::string name = require_string(request, "name");
      validate_variable_name(name);
      segment_.delete_variable(name);
      return json::object();
    }
    case op_code::collect: {
      std::string name = require_string(request, "name");
      validate_variable_name(name);
      return {{"removed", segment_.collect_variable(name)}};
    }
    case op_code::list: {
      json names = json::array();
      for (variable_record* r : segment_.list(optional_string(request, "prefix", ""))) {
        names.push_back(std::string(r->name_view()));
      }
      return {{"names", std::move(names)}};
    }
    case op_code::stat: {
      const segment_header& h = segment_.header();
      const auto bindings = segment_.count_bindings();
      return {{"manager", facts_.manager_name},
              {"version", version},
              {"manager_pid", getpid()},
              {"segment", segment_.shm_name()},
              {"size", segment_.size()},
              {"free_bytes", segment_.free_bytes()},
              {"variables", h.directory_used},
              {"name_capacity", h.directory_capacity / 4 * 3},
              {"retired_records", segment_.retired_count()},
              {"bindings", bindings.bindings},
              {"bindings_ledgered", bindings.ledgered},
              {"binding_processes", bindings.processes},
              {"bindings_reclaimed", segment_.bindings_reclaimed()},
              {"variables_collected", segment_.variables_collected()},
              {"connections", facts_.connections},
              {"answer_bytes_held", facts_.answer_bytes_held},
              {"waits_pending", facts_.waits ? facts_.waits->pending() : 0},
              {"wait_threads", facts_.waits ? facts_.waits->threads() : 0},
              {"adopted", segment_.adopted()},
              {"uptime_ms", (now_ns() - facts_.started_ns) / 1'000'000},
              {"bytes_in", facts_.bytes_in},
              {"bytes_out", facts_.bytes_out},
              {"listening", facts_.listening},
              {"other_users_admitted", facts_.other_users_admitted},
              {"auth_failures", facts_.auth_failures},
              {"leases", facts_.leases},
              {"handshakes_pending", facts_.handshakes_pending},
              {"handshakes_dropped", facts_.handshakes_dropped},
              {"busy_poll_us", facts_.busy_poll_us},
              {"starter_gone", facts_.starter_gone},
              {"counters", counters()}};
    }
    case op_code::dump:  // every variable: made off the event loop (its lookups lock, its records are bound)
      later = [&segment = segment_, prefix = optional_string(request, "prefix", "")] { return dump_json(segment, prefix); };
      return nullptr;
    case op_code::wait: {
      variable_record& r = existing(request);
      auto seen = require_integer(request, "version");
      auto timeout_ms = std::clamp<std::int64_t>(optional_integer(request, "timeout_ms", 1000), 0,
                                                 3'600'000);
      bind_record(r);
      wait = pending_wait{nullptr, &r, static_cast<std::uint64_t>(seen),
                          std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms)};
      return nullptr;
    }
    case op_code::loop_get:
      return loop_to_json(read_loop(existing(request)));
    case op_code::loop_mark: {
      variable_record& r = existing(request);
      loop_phase to = loop_phase_from_string(require_string(request, "state"));
      return loop_to_json(
          mark_loop(r, to, owner_of(request, peer), optional_string(request, "reason", ""), epoch_of(request)));
    }
    case op_code::loop_heartbeat: {
      variable_record& r = existing(request);
      auto count = optional_integer(request, "count", 1);
      if (count < 0) throw error(errc::invalid_argument, "count must not be negative");
      return loop_to_json(
          heartbeat_loop(r, owner_of(request, peer), static_cast<std::uint64_t>(count), epoch_of(request)));
    }
    case op_code::loop_request_stop:
      return {{"state", to_string(request_loop_stop(existing(request)))}};
    case op_code::shutdown:
      facts_.shutdown_requested = true;
      return json::object();
    case op_code::acquire: {
      variable_record& r = existing(request);
      const sync_actor who = actor_of(request, peer);
      acquire_outcome out = try_acquire(r, who);
      if (!out.acquired && evict_dead_holders(r)) out = try_acquire(r, who);
      return {{"acquired", out.acquired}, {"owner_died", out.previous_owner_died}, {"fence", out.fence}};
    }
    case op_code::release:
      return {{"kept", release(existing(request), actor_of(request, peer), epoch_of(request))}};
    case op_code::event_set: {
      const json& set = require_field(request, "set");
      if (!set.is_boolean()) throw error(errc::bad_request, "field 'set' must be true or false");
      set_event(existing(request), set.get<bool>());
      return json::object();
    }
    case op_code::barrier_arrive: {
      const json hold = request.value("hold", json(false));
      if (!hold.is_boolean()) throw error(errc::bad_request, "field 'hold' must be true or false");
      barrier_ticket t = arrive_at_barrier(existing(request), actor_of(request, peer), hold.get<bool>());
      return {{"generation", t.generation}, {"index", t.index}, {"trip", t.trip}};
    }
    case op_code::barrier_check: {
      variable_record& r = existing(request);
      barrier_ticket t{static_cast<std::uint64_t>(require_integer(request, "generation")), 0};
      const sync_actor who = actor_of(request, peer);
      evict_dead_holders(r);
      return {{"passed", barrier_passed(r, t, who)}};
    }
    case op_code::barrier_abort:
      abort_barrier(existing(request));
      return json::object();
    case op_code::barrier_reset:
      reset_barrier(existing(request));
      return json::object();
    case op_code::barrier_trip: {
      barrier_ticket t{static_cast<std::uint64_t>(require_integer(request, "generation")), 0};
      trip_barrier(existing(request), t, actor_of(request, peer));
      return json::object();
    }
    case op_code::condition_wait:
      return {{"depth", begin_condition_wait(existing(request), actor_of(request, peer))}};
    case op_code::condition_check: {
      variable_record& r = existing(request);
      evict_dead_holders(r);
      return {{"notified", condition_notified(r, actor_of(request, peer))}};
    }
    case op_code::condition_cancel:
      return {{"notified", cancel_condition_wait(existing(request), actor_of(request, peer))}};
    case op_code::notify: {
      variable_record& r = existing(request);
      auto n = optional_integer(request, "n", 1);
      if (n < 0) throw error(errc::invalid_argument, "n must not be negative");
      evict_dead_holders(r);  // a dead waiter must not swallow a notification
      return {{"woken", notify_condition(r, actor_of(request, peer), static_cast<std::uint64_t>(n))}};
    }
    case op_code::item_get: {
      variable_record& r = existing(request);
      return {{"value", item_to_json(r, read_item(r, require_integer(request, "index")))}};
    }
    case op_code::item_set: {
      variable_record& r = existing(request);
      write_item(r, require_integer(request, "index"), item_from_json(r, require_field(request, "value")));
      return {{"version", r.version.load()}};
    }
    case op_code::list_append: {
      const std::string name = require_string(request, "name");
      variable_record* r = &existing(request);
      std::vector<std::uint64_t> items;
      if (request.contains("items")) {
        const json& list = require_field(request, "items");
        if (!list.is_array()) throw error(errc::bad_request, "field 'items' must be an array");
        for (const json& item : list) items.push_back(item_from_json(*r, item));
      } else {
        items.push_back(item_from_json(*r, require_field(request, "value")));
      }
      std::uint64_t size = 0;
      growing(name, r, [&](variable_record& v) { size = append_items(v, items); });
      return {{"size", size}};
    }
    case op_code::list_insert: {
      const std::string name = require_string(request, "name");
      variable_record* r = &existing(request);
      const std::uint64_t bits = item_from_json(*r, require_field(request, "value"));
      const std::int64_t index = require_integer(request, "index");
      std::uint64_t size = 0;
      growing(name, r, [&](variable_record& v) { size = insert_item(v, index, bits); });
      return {{"size", size}};
    }
    // An op's locks come before its commit: a lock met busy after it would retry a
    // change already made (the element type is read first for that reason).
    case op_code::list_pop: {
      variable_record& r = existing(request);
      const value_type element = element_type_of(r);
      const std::uint64_t bits = pop_item(r, optional_integer(request, "index", -1));
      return {{"value", element_to_json(element, std::string(reinterpret_cast<const char*>(&bits), sizeof bits))}};
    }
    case op_code::queue_put: {
      variable_record* r = &existing(request);
      const std::string item = element_from_json(r->name_view(), read_queue(*r).element, require_field(request, "value"));
      queue_attempt a;
      r = growing(require_string(request, "name"), r, [&](variable_record& q) { a = try_put(q, item); });
      return {{"ok", a.done}, {"version", a.version}};
    }
    case op_code::queue_get: {
      variable_record& r = existing(request);
      const value_type element = read_queue(r).element;
      std::string item;
      queue_attempt a = try_get(r, item);
      json result = {{"ok", a.done}, {"version", a.version}};
      if (a.done) result["value"] = element_to_json(element, item);
      return result;
    }
    case op_code::task_done:
      return {{"unfinished", core::task_done(existing(request))}};
    case op_code::auth:  // the connection answers a TCP peer's first auth itself
      throw error(errc::invalid_argument, peer.remote ? "this connection is already authenticated"
                                                      : "auth is for TCP connections (a Unix socket's peer is "
                                                        "checked by its uid)");
  }
  throw error(errc::internal, "op without a handler");
}

}  // namespace mpstate::manager
