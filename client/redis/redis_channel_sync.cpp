// SPDX-License-Identifier: MIT
// The Redis backend's synchronisation types, loops, events and queues, and the
// leases of what a process holds (redis_channel.hpp).
#include <chrono>
#include <nlohmann/json.hpp>

#include "mpstate/core/loop_ops.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/core/sync_ops.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"
#include "redis_channel.hpp"
#include "redis_scripts.hpp"

namespace mpstate::detail {

namespace {
using json = nlohmann::json;
using core::value_type;
namespace scripts = redis_scripts;

std::int64_t field_number(const std::map<std::string, std::string>& h, const std::string& field) {
  auto it = h.find(field);
  return it == h.end() || it->second.empty() ? 0 : std::stoll(it->second);
}

// "HOST:PID:START" -> PID
std::int64_t pid_of(const std::string& owner) {
  const auto last = owner.rfind(':');
  if (last == std::string::npos || last == 0) return 0;
  const auto before = owner.rfind(':', last - 1);
  return std::stoll(owner.substr(before == std::string::npos ? 0 : before + 1, last - before - 1));
}

// A barrier's waiting parties (X: e:OWNER -> lease end) as the local backend shows
// holders: [{"pid", "count"}].
json holders_of(const redisReply* flat) {
  json out = json::array();
  for (const auto& [field, lease_end] : reply_map(flat)) {
    if (field.starts_with("e:")) out.push_back({{"pid", pid_of(field.substr(2))}, {"count", 1}});
  }
  return out;
}

// The loop's hash as the local backend shows a loop (core::loop_to_json).
json loop_json(const std::map<std::string, std::string>& h) {
  core::loop_snapshot s{};
  s.phase = core::loop_phase_from_string(h.at("state"));
  s.owner_pid = static_cast<std::int32_t>(field_number(h, "pid"));
  s.iterations = static_cast<std::uint64_t>(field_number(h, "iterations"));
  s.started_ns = field_number(h, "started_ns");
  s.heartbeat_ns = field_number(h, "heartbeat_ns");
  s.epoch = static_cast<std::uint64_t>(field_number(h, "epoch"));
  const std::string reason = h.count("reason") ? h.at("reason") : "";
  reason.copy(s.reason, sizeof s.reason - 1);
  return core::loop_to_json(s);
}

}  // namespace

std::vector<std::string> redis_channel::create_fields(const std::string& name, value_type t, const json& value) const {
  switch (t) {
    case value_type::int64:
    case value_type::uint64:
      return {"v", encode(name, t, value.is_null() ? json(0) : value)};
    case value_type::counter:  // an int64 total: HINCRBY is as contention-free as Redis gets
      return {"v", encode(name, value_type::int64, value.is_null() ? json(0) : value)};
    case value_type::float64:
      return {"v", encode(name, t, value.is_null() ? json(0.0) : value)};
    case value_type::boolean:
      return {"v", encode(name, t, value.is_null() ? json(false) : value)};
    case value_type::string:
    case value_type::bytes:
      return {"v", encode(name, t, value.is_null() ? json("") : value)};
    case value_type::json:
      return {"v", encode(name, t, value)};
    case value_type::loop:
      return {"state", "idle",         "pid", "0",      "owner", "",    "iterations", "0",     "started_ns",
              "0",     "heartbeat_ns", "0",   "reason", "",      "exp", "0",          "lease", "0"};
    case value_type::lock:
    case value_type::rlock:
    case value_type::condition:
      core::initial_sync_state(t, name, value);  // checks, as the manager does
      return {"owner", "",     "tid", "",    "depth", "0",    "holder_pid", "0",     "exp",
              "0",     "died", "0",   "acq", "0",     "dead", "0",          "fence", "0"};
    case value_type::barrier:
      return {"parties",    std::to_string(core::initial_sync_state(t, name, value).limit),
              "waiting",    "0",
              "generation", "0",
              "broken",     "0",
              "acq",        "0",
              "dead",       "0"};
    case value_type::array:
    case value_type::list: {
      if (!value.is_object() || !value.contains("of"))
        throw error(errc::invalid_argument, "an array or list takes {\"of\", \"items\" or \"size\"}");
      const value_type of = core::value_type_from_string(value.at("of").get<std::string>());
      if (!core::is_scalar(of)) throw error(errc::invalid_type, "arrays and lists hold int64, uint64, double or bool");
      return {"of", std::string(core::to_string(of))};
    }
    case value_type::semaphore:
    case value_type::bounded_semaphore: {
      const core::sync_state s = core::initial_sync_state(t, name, value);
      const std::string permits = std::to_string(s.value);
      const bool rdp = (s.options & core::sync_option_return_dead_permits) != 0;
      return {"value", permits, "bound", permits, "rdp", rdp ? "1" : "0", "acq", "0", "dead", "0"};
    }
    case value_type::event:
      return {"set", core::initial_sync_state(t, name, value).value != 0 ? "1" : "0"};
    case value_type::queue: {
      if (!value.is_object()) throw error(errc::invalid_argument, "a queue takes {\"of\", \"maxsize\", \"item_size\"}");
      const value_type of = core::value_type_from_string(value.value("of", "json"));
      if (!core::is_scalar(of) && of != value_type::string && of != value_type::bytes && of != value_type::json) {
        throw error(errc::invalid_type, "a queue holds scalars, strings, bytes or json");
      }
      const auto maxsize = value.value("maxsize", std::int64_t{0});
      if (maxsize < 0) throw error(errc::invalid_argument, "a queue's maxsize is >= 0 (0: unbounded)");
      return {"of",         std::string(core::to_string(of)),
              "maxsize",    std::to_string(maxsize),
              "item_size",  std::to_string(value.value("item_size", std::int64_t{256})),
              "unfinished", "0",
              "puts",       "0",
              "gets",       "0",
              "returned",   "0"};
    }
    default:
      throw error(errc::invalid_type, std::string(core::to_string(t)) + " is not available on the Redis backend yet");
  }
}

json redis_channel::value_of(value_type t, const std::map<std::string, std::string>& h, const redisReply* extra) const {
  switch (t) {
    case value_type::lock:
    case value_type::rlock: {
      json out = {{"locked", !h.at("owner").empty()},       {"holder_pid", field_number(h, "holder_pid")},
                  {"depth", field_number(h, "depth")},      {"owner_died", h.at("died") == "1"},
                  {"acquisitions", field_number(h, "acq")}, {"dead_holders", field_number(h, "dead")},
                  {"fence", field_number(h, "fence")}};
      if (t == value_type::rlock) out["holder_tid"] = field_number(h, "tid");
      return out;
    }
    case value_type::semaphore:
    case value_type::bounded_semaphore: {
      json holders = json::array();
      const auto owners = reply_map(extra);
      for (const auto& [field, count] : owners) {
        if (field.starts_with("c:"))
          holders.push_back({{"pid", pid_of(field.substr(2))}, {"count", std::stoll(count)}});
      }
      json out = {{"value", field_number(h, "value")},
                  {"return_dead_permits", h.at("rdp") == "1"},
                  {"holders", holders},
                  {"untracked", 0},
                  {"acquisitions", field_number(h, "acq")},
                  {"dead_holders", field_number(h, "dead")}};
      if (t == value_type::bounded_semaphore) out["bound"] = field_number(h, "bound");
      return out;
    }
    case value_type::event:
      return {{"set", h.at("set") == "1"}, {"sets", field_number(h, "sets")}};
    case value_type::array:
    case value_type::list: {
      json items = json::array();
      for (std::size_t i = 0; i < extra->elements; ++i) items.push_back(json::parse(reply_text(extra->element[i])));
      return {{"of", h.at("of")}, {"items", items}};
    }
    case value_type::barrier:
      return {{"parties", field_number(h, "parties")},
              {"waiting", field_number(h, "waiting")},
              {"generation", field_number(h, "generation")},
              {"broken", h.at("broken") == "1"},
              {"resetting", h.at("broken") == "2"},
              {"tripping", h.at("broken") == "3"},
              {"holders", holders_of(extra)},
              {"acquisitions", field_number(h, "acq")},
              {"dead_holders", field_number(h, "dead")}};
    case value_type::condition: {
      json waiters = json::array();
      for (std::size_t i = 0; i < extra->elements; ++i) {
        const std::string who = reply_text(extra->element[i]);  // OWNER/TID
        waiters.push_back(pid_of(who.substr(0, who.rfind('/'))));
      }
      return {{"locked", !h.at("owner").empty()},
              {"holder_pid", field_number(h, "holder_pid")},
              {"holder_tid", field_number(h, "tid")},
              {"depth", field_number(h, "depth")},
              {"owner_died", h.at("died") == "1"},
              {"waiting", waiters.size()},
              {"waiters", waiters},
              {"acquisitions", field_number(h, "acq")},
              {"dead_holders", field_number(h, "dead")}};
    }
    case value_type::queue: {
      json items = json::array();
      for (std::size_t i = 0; i < extra->elements; ++i) items.push_back(json::parse(reply_text(extra->element[i])));
      const std::int64_t maxsize = field_number(h, "maxsize");
      return {{"of", h.at("of")},
              {"size", items.size()},
              {"maxsize", maxsize},
              {"slots", maxsize > 0 ? maxsize : static_cast<std::int64_t>(items.size())},
              {"item_size", field_number(h, "item_size")},
              {"unfinished", field_number(h, "unfinished")},
              {"puts", field_number(h, "puts")},
              {"gets", field_number(h, "gets")},
              {"returned", field_number(h, "returned")},
              {"items", items}};
    }
    default:
      return value_from_text(t, h.at("v"));
  }
}

json redis_channel::value_from_text(value_type t, const std::string& text) {
  json value = json::parse(text);
  return t == value_type::float64 ? core::double_to_json(*core::double_from_json(value)) : value;
}

// The request's "epoch" as the scripts take it: decimal text, "" for none.
std::string redis_channel::epoch_text(const json& request) {
  if (!request.contains("epoch")) return "";
  const json& e = request["epoch"];
  if (!e.is_number_unsigned() && !(e.is_number_integer() && e.get<std::int64_t>() >= 0)) {
    throw error(errc::bad_request, "field 'epoch' must be an integer >= 0");
  }
  return std::to_string(e.get<std::uint64_t>());
}

json redis_channel::lock_op(const std::string& action, const std::string& name, const json& request) {
  const std::string tid = std::to_string(request.value("tid", 0));
  const std::string epoch = epoch_text(request);
  redis_reply r =
      run(scripts::lock, name,
          {action, owner_, tid, std::to_string(url_.lease.count()), std::to_string(owner_pid_), name, epoch});
  if (action == "release") {
    const std::uint64_t kept = static_cast<std::uint64_t>(reply_element(r.get(), 0)->integer);
    if (kept == 0) unhold(name);  // a released holding is never renewed
    return {{"kept", kept}};
  }
  const bool acquired = reply_element(r.get(), 0)->integer == 1;
  const auto fence = static_cast<std::uint64_t>(reply_element(r.get(), 2)->integer);
  if (acquired) hold(name, type_of(name), fence);  // (a semaphore without return_dead_permits: dropped at its renewal)
  json answer = {{"acquired", acquired}, {"owner_died", reply_element(r.get(), 1)->integer == 1}, {"fence", fence}};
  if (!acquired) answer["version"] = static_cast<std::uint64_t>(reply_element(r.get(), 3)->integer);
  return answer;
}

json redis_channel::loop_op(const std::string& action, const std::string& name, const json& request) {
  std::string script_action = action, arg, reason = request.value("reason", "");
  if (action == "mark") {
    const json& state = core::require_field(request, "state");
    if (!state.is_string()) throw error(errc::bad_request, "field 'state' must be a string");
    arg = state.get<std::string>();
    core::loop_phase_from_string(arg);  // invalid_argument for a state that is none
  } else if (action == "heartbeat") {
    arg = std::to_string(request.value("count", std::uint64_t{1}));
  } else if (action == "request_stop") {
    script_action = "stop";
  } else if (action != "get") {
    throw error(errc::unknown_op, "unknown op 'loop_" + action + "'");
  }
  redis_reply r = run(scripts::loop, name,
                      {script_action, owner_, std::to_string(owner_pid_), std::to_string(url_.lease.count()), arg,
                       reason, name, epoch_text(request)});
  json loop = loop_json(reply_map(r.get()));
  if (action == "mark" && arg == "starting") hold(name, value_type::loop, loop.at("epoch").get<std::uint64_t>());
  if (action == "mark" && (arg == "stopped" || arg == "failed")) unhold(name);
  if (action == "request_stop") return {{"state", loop.at("state")}};
  return loop;
}

json redis_channel::queue_op(const std::string& action, const std::string& name, const json& request) {
  const std::string lease = std::to_string(url_.lease.count());
  if (action == "put") {
    const value_type of = item_type(name);
    redis_reply r = run(scripts::queue, name,
                        {"put", name, owner_, lease, encode(name, of, core::require_field(request, "value"))});
    return {{"ok", r->element[0]->integer == 1}, {"version", r->element[1]->integer}};
  }
  if (action == "get") {
    redis_reply r = run(scripts::queue, name, {"get", name, take_owner_, lease, ""});
    if (r->element[0]->integer != 1) return {{"ok", false}, {"version", r->element[2]->integer}};
    json item = json::parse(reply_text(r->element[1]));
    // The item reached us: it is ours now, unless our lease lapsed first and it went
    // back to the queue (then it is not ours: say so, and the caller takes again).
    redis_reply acked = run(scripts::queue, name, {"ack", name, take_owner_, lease, ""});
    if (acked->integer != 1) return {{"ok", false}, {"version", r->element[2]->integer}};
    return {{"ok", true}, {"value", std::move(item)}, {"version", r->element[2]->integer}};
  }
  if (action == "done") {
    redis_reply r = run(scripts::queue, name, {"done", name, owner_, lease, ""});
    return {{"unfinished", r->element[0]->integer}};
  }
  throw error(errc::unknown_op, "unknown op 'queue_" + action + "'");
}

void redis_channel::hold(const std::string& name, value_type t, std::uint64_t epoch) {
  lease_keeper& k = *leases_;
  std::lock_guard lock(k.mutex);
  k.held[name] = {t, ++k.holds, epoch};
  if (!k.thread) k.thread = std::make_unique<std::thread>([this, &k] { renew_leases(k); });
}

void redis_channel::unhold(const std::string& name) {
  lease_keeper& k = *leases_;
  std::lock_guard lock(k.mutex);
  k.held.erase(name);
}

// Every third of the lease, renews everything held in one pipelined batch (one round
// trip per node), on a connection of its own (the channel's may be blocked in a wait)
// that does not wait out a node's failure, so one node failing over does not hold up
// renewals on the others. What is no longer held is dropped.
void redis_channel::renew_leases(lease_keeper& k) {
  std::unique_ptr<redis_link> link;
  std::unique_lock lock(k.mutex);
  while (!k.stopping) {
    k.wake.wait_for(lock, url_.lease / 3, [&] { return k.stopping; });
    if (k.stopping) break;
    const auto held = k.held;
    lock.unlock();
    std::vector<std::pair<std::string, std::uint64_t>> gone;
    try {
      if (!link) link = std::make_unique<redis_link>(url_, /*patient=*/false);
      gone = renew_all(*link, held);
    } catch (const std::exception&) {
      link.reset();  // Redis away, or an answer of a shape we did not expect: next time, on a new connection
    }
    lock.lock();
    for (const auto& [name, generation] : gone) {
      if (auto it = k.held.find(name); it != k.held.end() && it->second.generation == generation) k.held.erase(it);
    }
  }
}

// One renewal of each holding (a condition: its lock, and our places among its
// waiters), all pipelined; a node that is away holds up none of the others. With the holding's epoch: a holding that
// ended (a lapse, a restart that lost it or brought back an older one) is not renewed, and is returned as gone, as is
// one whose variable went (not_found) or changed type.
std::vector<std::pair<std::string, std::uint64_t>> redis_channel::renew_all(
    redis_link& link, const std::map<std::string, held_thing>& held) {
  const std::string lease = std::to_string(url_.lease.count()), pid = std::to_string(owner_pid_);
  std::vector<redis_link::script_call> calls;
  std::vector<std::size_t> first_call;  // per holding, in held's order
  for (const auto& [name, thing] : held) {
    first_call.push_back(calls.size());
    const std::string epoch = thing.epoch ? std::to_string(thing.epoch) : "";
    switch (thing.type) {
      case value_type::loop:
        calls.push_back({&scripts::loop, keys_of(name), {"renew", owner_, pid, lease, "", "", name, epoch}});
        break;
      case value_type::barrier:
        calls.push_back({&scripts::barrier, keys_of(name), {"renew", owner_, lease, "0", name}});
        break;
      case value_type::condition:
        calls.push_back({&scripts::lock, keys_of(name), {"renew", owner_, "", lease, pid, name, epoch}});
        calls.push_back({&scripts::condition, keys_of(name), {"renew", owner_, "", lease, "0", name}});
        break;
      default:
        calls.push_back({&scripts::lock, keys_of(name), {"renew", owner_, "", lease, pid, name, epoch}});
    }
  }
  std::vector<redis_reply> replies = link.scripts(calls);
  std::vector<std::pair<std::string, std::uint64_t>> gone;
  std::size_t h = 0;
  for (const auto& [name, thing] : held) {
    const std::size_t end = h + 1 < first_call.size() ? first_call[h + 1] : calls.size();
    bool still = false, unknown = false;
    try {
      for (std::size_t i = first_call[h]; i < end; ++i) {
        if (!replies[i]) {  // its node was away: kept, tried again at the next pass
          unknown = true;
          continue;
        }
        redis_reply r = checked_script_reply(std::move(replies[i]));
        still = still || !(r->type == REDIS_REPLY_INTEGER && r->integer == 0);
      }
    } catch (const error& e) {
      // its variable went or changed type: not held; any other answer: kept, as above
      unknown = e.code() != errc::not_found && e.code() != errc::type_mismatch;
      still = false;
    }
    if (!still && !unknown) gone.emplace_back(name, thing.generation);
    ++h;
  }
  return gone;
}

}  // namespace mpstate::detail
