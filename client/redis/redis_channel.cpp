// SPDX-License-Identifier: MIT
#include "redis_channel.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

#include "mpstate/core/metrics.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/protocol.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"
#include "mpstate/version.hpp"
#include "redis_scripts.hpp"

namespace mpstate::detail {

namespace {
using json = nlohmann::json;
using core::value_type;
namespace scripts = redis_scripts;

std::string required_name(const json& request) {
  std::string name = core::require_string(request, "name");
  core::validate_variable_name(name);
  return name;
}

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "localhost";
  return host;
}

// The exception being handled as an mpstate::error: ours as it is, a JSON one
// bad_request, any other (a reply of a shape we did not expect) internal.
[[noreturn]] void rethrow_as_error() {
  try {
    throw;
  } catch (const error&) {
    throw;
  } catch (const json::exception& e) {
    throw error(errc::bad_request, e.what());
  } catch (const std::exception& e) {
    throw error(errc::internal, std::string("Redis backend: ") + e.what());
  } catch (...) {
    throw error(errc::internal, "Redis backend: an unknown exception");
  }
}

// Scalars, strings, bytes and json: what set, add and cas apply to.
bool holds_a_value(core::value_type t) {
  using core::value_type;
  return core::is_scalar(t) || t == value_type::string || t == value_type::bytes || t == value_type::json;
}
}  // namespace

redis_channel::redis_channel(const std::string& address)
    : url_(parse_redis_url(address)), links_(url_), owner_pid_(::getpid()) {
  link();  // connects now: no Redis there is manager_unavailable from the start
  owner_ = host_name() + ":" + std::to_string(owner_pid_) + ":" + std::to_string(core::process_start_time(owner_pid_));
  static std::atomic<std::uint64_t> channels{0};
  take_owner_ = owner_ + "#" + std::to_string(++channels);
}

redis_channel::~redis_channel() {
  if (::getpid() != owner_pid_) {  // destroyed in a forked child without abandon_in_child()
    [[maybe_unused]] lease_keeper* parents = leases_.release();
    return;
  }
  lease_keeper& k = *leases_;
  if (!k.thread) return;
  {
    std::lock_guard lock(k.mutex);
    k.stopping = true;
  }
  k.wake.notify_all();
  k.thread->join();
}

void redis_channel::abandon_in_child() {
  [[maybe_unused]] lease_keeper* parents = leases_.release();  // never touched again
  leases_ = std::make_unique<lease_keeper>();
}

std::optional<json> redis_channel::round_trip(const json& request) {
  const json id = request.value("id", json());
  try {
    try {
      if (!request.is_object()) throw error(errc::bad_request, "a request must be a JSON object");
      const json& op = core::require_field(request, "op");
      if (!op.is_string()) throw error(errc::bad_request, "field 'op' must be a string");
      return json{{"id", id}, {"result", dispatch(op.get<std::string>(), request)}};
    } catch (...) {
      rethrow_as_error();
    }
  } catch (const error& e) {
    if (e.code() == errc::manager_unavailable) throw;
    return json{{"id", id}, {"error", {{"code", to_string(e.code())}, {"message", e.message()}}}};
  }
}

// The same ops as dispatch() carries out for get, set and add.
std::optional<json> redis_channel::value_call(value_op op, const std::string& name, const json& operand) {
  try {
    switch (op) {
      case value_op::get:
        return read(name).value;
      case value_op::set:
        return set(name, operand);
      case value_op::add:
        return add(name, operand);
    }
    throw error(errc::internal, "unknown value op");
  } catch (...) {
    rethrow_as_error();
  }
}

// Every op of core/op_table.hpp has a case here: the switch has no default, so a new
// op the backend does not handle is a compile error (-Wswitch), not a silent
// unknown_op.
json redis_channel::dispatch(const std::string& op, const json& request) {
  const core::op_spec* spec = core::find_op(op);
  if (!spec) throw error(errc::unknown_op, "unknown op '" + op + "'");
  using core::op_code;
  switch (spec->code) {
    case op_code::hello:
      return {{"manager", url_.text},
              {"segment", ""},
              {"segment_size", 0},
              {"layout_version", core::layout_version},
              {"protocol_version", core::protocol_version},
              {"manager_pid", 0},
              {"version", std::string(version)},
              {"backend", "redis"}};
    case op_code::list:
      return list(request.value("prefix", ""));
    case op_code::dump:
      return dump(request.value("prefix", ""));
    case op_code::stat:
      return stat();
    case op_code::metrics:  // what a manager's figures Redis has: the variables, from this client
      return {{"text", core::prometheus_text(stat(), dump(""))}};
    case op_code::shutdown:
      throw error(errc::invalid_argument, "a Redis backend has no manager to shut down");
    case op_code::collect:  // unnamed variables are counted on a mapped segment only
    case op_code::auth:     // a manager's TCP handshake
      throw error(errc::unknown_op, "unknown op '" + op + "'");
    default:
      return on_variable(*spec, request);
  }
}

json redis_channel::stat() {
  return {{"backend", "redis"},
          {"url", url_.text},
          {"version", std::string(version)},
          {"variables", list("").at("names").size()},
          {"lease_ms", url_.lease.count()}};
}

json redis_channel::on_variable(const core::op_spec& spec, const json& request) {
  // Owned things are this process's leases: nobody acts for another process here.
  if (request.contains("pid"))
    throw error(errc::invalid_argument, "'pid' (acting for another process) is not available on Redis");
  const std::string name = required_name(request);
  const std::optional<fence_args> fence = fence_of(request);
  if (fence && !(spec.flags & core::op_fenced))
    throw error(errc::invalid_argument, "a 'fence' goes with set, add and cas only");
  const fence_args* fenced = fence ? &*fence : nullptr;
  const std::string op(spec.name);
  using core::op_code;
  switch (spec.code) {
    case op_code::create:
      return create(name, request);
    case op_code::get: {
      variable_state got = read(name);
      return {{"type", core::to_string(got.type)}, {"value", std::move(got.value)}, {"version", got.version}};
    }
    case op_code::set:
      return {{"version", set(name, core::require_field(request, "value"), fenced)}};
    case op_code::add:
      return {{"value", add(name, core::require_field(request, "delta"), fenced)}};
    case op_code::cas:
      return cas(name, core::require_field(request, "expected"), core::require_field(request, "desired"), fenced);
    case op_code::delete_:
      run(scripts::remove, name, {name});
      forget(name);
      return json::object();
    case op_code::wait:
      return wait(name, core::require_field(request, "version").get<std::uint64_t>(),
                  request.value("timeout_ms", std::int64_t{1000}));
    case op_code::grow:
      return {{"capacity", 0}, {"version", read(name).version}};  // Redis values grow as needed
    case op_code::acquire:
    case op_code::release:
      return lock_op(op, name, request);
    case op_code::loop_get:
    case op_code::loop_mark:
    case op_code::loop_heartbeat:
    case op_code::loop_request_stop:
      return loop_op(op.substr(5), name, request);
    case op_code::queue_put:
    case op_code::queue_get:
      return queue_op(op.substr(6), name, request);
    case op_code::task_done:
      return queue_op("done", name, request);
    case op_code::event_set:
      run(scripts::event, name, {core::require_field(request, "set").get<bool>() ? "1" : "0", name});
      return json::object();
    case op_code::item_get:
    case op_code::item_set:
    case op_code::list_append:
    case op_code::list_insert:
    case op_code::list_pop:
      return items_op(op, name, request);
    case op_code::barrier_arrive:
    case op_code::barrier_check:
    case op_code::barrier_abort:
    case op_code::barrier_reset:
    case op_code::barrier_trip:
      return barrier_op(op.substr(8), name, request);
    case op_code::condition_wait:
    case op_code::condition_check:
    case op_code::condition_cancel:
      return condition_op(op.substr(10), name, request);
    case op_code::notify:
      return condition_op("notify", name, request);
    case op_code::hello:
    case op_code::list:
    case op_code::dump:
    case op_code::stat:
    case op_code::shutdown:
    case op_code::collect:
    case op_code::auth:
    case op_code::metrics:
      break;  // not about one variable: dispatch() answers them
  }
  throw error(errc::internal, "op '" + op + "' reached the per-variable dispatch");
}

std::string redis_channel::hash_key(const std::string& name) const { return url_.prefix + "{" + name + "}"; }

std::optional<redis_channel::fence_args> redis_channel::fence_of(const json& request) {
  auto it = request.find("fence");
  if (it == request.end()) return std::nullopt;
  if (!it->is_object())
    throw error(errc::bad_request, "field 'fence' must be an object {\"lock\": NAME, \"epoch\": N}");
  fence_args f{core::require_string(*it, "lock"), epoch_text(*it)};
  core::validate_variable_name(f.lock);
  if (f.epoch.empty()) throw error(errc::missing_field, "missing field 'epoch' in 'fence'");
  return f;
}

redis_reply redis_channel::run_write(const std::string& plain, const std::string& fenced, const std::string& name,
                                     std::vector<std::string> args, const fence_args* fence, bool all_keys) {
  if (!fence) return all_keys ? run(plain, name, args) : run_on_value(plain, name, args);
  if (fence->lock == name) throw error(errc::invalid_argument, "a variable cannot be fenced by itself");
  std::vector<std::string> keys = keys_of(name);
  keys.push_back(hash_key(fence->lock));
  keys.push_back(keys.back() + ":x");
  if (url_.how == redis_url::kind::cluster && hash_slot(keys[0]) != hash_slot(keys[4])) {
    throw error(errc::invalid_argument,
                "on a Redis Cluster a fenced write needs its variable and its lock in one hash "
                "slot: '" +
                    name + "' is in slot " + std::to_string(hash_slot(keys[0])) + ", '" + fence->lock + "' in " +
                    std::to_string(hash_slot(keys[4])) + " (docs/redis.md, \"Fenced writes\")");
  }
  args.push_back(fence->lock);
  args.push_back(fence->epoch);
  return link()->script(fenced, keys, args);
}

std::vector<std::string> redis_channel::value_keys(const std::string& name) const {
  std::string hash = hash_key(name);
  std::string stream = hash + ":w";
  return {std::move(hash), std::move(stream)};
}

std::vector<std::string> redis_channel::keys_of(const std::string& name) const {
  std::vector<std::string> keys = value_keys(name);
  keys.push_back(keys[0] + ":x");
  keys.push_back(keys[0] + ":t");
  return keys;
}

// The prefix's incarnation: "ID:MICROSECONDS" in P{}:incarnation, made once (SET NX)
// with a random id and the server's clock. Read on every new connection: gone, or
// another, means Redis lost the data this client knew (restarted without
// persistence, flushed): the caller is told once (manager_unavailable), what this
// process held is dropped (its leases went with the data), and the types it knew are
// forgotten. (A restart from an older snapshot keeps the key: that is Redis's own
// durability, docs/redis.md; epochs still never repeat, being above the clock.)
void redis_channel::check_incarnation(redis_link& l) {
  const std::string key = url_.prefix + "{}:incarnation";
  redis_reply got = l.command({"GET", key}, key);
  if (got->type != REDIS_REPLY_STRING) {
    redis_reply time = l.command({"TIME"}, key);
    std::string micros = reply_text(reply_element(time.get(), 1));
    micros.insert(0, 6 - std::min<std::size_t>(6, micros.size()), '0');
    std::uint64_t rnd = 0;
    if (::getrandom(&rnd, sizeof rnd, 0) != static_cast<ssize_t>(sizeof rnd)) rnd = 0;
    rnd ^= static_cast<std::uint64_t>(core::now_ns());
    const std::string made = core::incarnation_text(rnd) + ":" + reply_text(reply_element(time.get(), 0)) + micros;
    l.command({"SET", key, made, "NX"}, key);
    got = l.command({"GET", key}, key);
  }
  const std::string now = reply_text(got.get());
  std::lock_guard lock(incarnation_mutex_);
  if (incarnation_.empty() || incarnation_ == now) {
    incarnation_ = now;
    return;
  }
  const std::string before = std::exchange(incarnation_, now);
  {
    std::lock_guard held(leases_->mutex);
    leases_->held.clear();
  }
  {
    std::lock_guard cache(cache_mutex_);
    types_.clear();
    item_types_.clear();
  }
  throw error(errc::manager_unavailable, "Redis at " + url_.text + " lost the data under prefix '" + url_.prefix +
                                             "' (incarnation " + before + ", now " + now +
                                             "): the variables this client knew and what this process held there "
                                             "are gone; from now on it works on what is there");
}

redis_link_pool::loan redis_channel::link() {
  redis_link_pool::loan l = links_.borrow();
  if (l.checked() != l->connections()) {
    check_incarnation(*l);
    l.checked() = l->connections();
  }
  return l;
}

std::optional<core::value_type> redis_channel::cached_type(const std::string& name) const {
  std::lock_guard lock(cache_mutex_);
  if (auto it = types_.find(name); it != types_.end()) return it->second;
  return std::nullopt;
}

void redis_channel::remember_type(const std::string& name, core::value_type t) {
  std::lock_guard lock(cache_mutex_);
  types_[name] = t;
}

std::optional<core::value_type> redis_channel::cached_item_type(const std::string& name) const {
  std::lock_guard lock(cache_mutex_);
  if (auto it = item_types_.find(name); it != item_types_.end()) return it->second;
  return std::nullopt;
}

void redis_channel::remember_item_type(const std::string& name, core::value_type t) {
  std::lock_guard lock(cache_mutex_);
  item_types_[name] = t;
}

void redis_channel::forget(const std::string& name) {
  std::lock_guard lock(cache_mutex_);
  types_.erase(name);
  item_types_.erase(name);
}

redis_reply redis_channel::run(const std::string& script, const std::string& name,
                               const std::vector<std::string>& args) {
  return link()->script(script, keys_of(name), args);
}

redis_reply redis_channel::run_on_value(const std::string& script, const std::string& name,
                                        const std::vector<std::string>& args) {
  return link()->script(script, value_keys(name), args);
}

core::value_type redis_channel::type_of(const std::string& name) {
  if (auto known = cached_type(name)) return *known;
  const std::string key = hash_key(name);
  redis_reply r = link()->command({"HGET", key, "t"}, key);
  if (r->type != REDIS_REPLY_STRING) throw error(errc::not_found, "no variable '" + name + "'");
  const auto t = core::value_type_from_string(reply_text(r.get()));
  remember_type(name, t);
  return t;
}

std::string redis_channel::encode(const std::string& name, core::value_type t, const json& value) const {
  return core::element_to_json(t, core::element_from_json(name, t, value)).dump();
}

json redis_channel::create(const std::string& name, const json& request) {
  const json& type = core::require_field(request, "type");
  if (!type.is_string()) throw error(errc::bad_request, "field 'type' must be a string");
  const core::value_type t = core::value_type_from_string(type.get<std::string>());
  const json value = request.value("value", json());
  std::vector<std::string> fields = create_fields(name, t, value);
  std::vector<std::string> args = {std::string(core::to_string(t)), name, std::to_string(fields.size())};
  for (auto& field : fields) args.push_back(std::move(field));
  if (t == value_type::array || t == value_type::list) {  // the items, into the list key
    const value_type of = core::value_type_from_string(value.at("of").get<std::string>());
    json all = value.value("items", json::array());
    if (t == value_type::array && value.contains("size")) {
      const json& size = value.at("size");
      if (!size.is_number_integer() || size.get<std::int64_t>() < 0 || size.get<std::int64_t>() > 8'388'608) {
        throw error(errc::invalid_argument, "an array's size is an integer from 0 to 8388608");
      }
      all = json::array_t(size.get<std::size_t>(), json(0));
    }
    for (auto& text : encode_items(name, of, all)) args.push_back(std::move(text));
  }
  redis_reply r = run(scripts::create, name, args);
  remember_type(name, t);
  return {{"name", name}, {"type", core::to_string(t)}, {"capacity", 0}, {"version", r->integer}};
}

redis_channel::variable_state redis_channel::read(const std::string& name) {
  if (auto known = cached_type(name); known && (holds_a_value(*known) || *known == value_type::counter)) {
    // A value's read is one HMGET, no script; any other answer takes the general path.
    const std::string key = hash_key(name);
    redis_reply r = link()->command({"HMGET", key, "t", "v", "ver"}, key);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && reply_text(r->element[0]) == core::to_string(*known) &&
        r->element[1]->type == REDIS_REPLY_STRING && r->element[2]->type == REDIS_REPLY_STRING) {
      return {*known, value_from_text(*known, reply_text(r->element[1])), std::stoull(reply_text(r->element[2]))};
    }
  }
  redis_reply r = run(scripts::read, name, {name});
  const auto h = reply_map(r->element[0]);
  const core::value_type t = core::value_type_from_string(h.at("t"));
  remember_type(name, t);
  const std::uint64_t version = std::stoull(h.at("ver"));
  if (t == core::value_type::loop) return {t, loop_op("get", name, json::object()), version};
  json value = value_of(t, h, r->element[1]);
  if (t == core::value_type::condition) value["notified"] = r->element[2]->integer;
  return {t, std::move(value), version};
}

// The client encodes for the type it knows (or the one `set` would give a new
// variable); a variable of another type answers with its type, and the value is
// encoded again for it.
std::uint64_t redis_channel::set(const std::string& name, const json& value, const fence_args* fence) {
  core::value_type t = cached_type(name).value_or(core::type_for_json(value));
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (t == value_type::array || t == value_type::list) {
      if (fence)
        throw error(errc::type_mismatch,
                    "fenced writes are for values; '" + name + "' is a " + std::string(core::to_string(t)));
      return items_op("replace", name, {{"value", value}}).at("version").get<std::uint64_t>();
    }
    if (!holds_a_value(t))
      throw error(errc::type_mismatch,
                  "variable '" + name + "' is " + std::string(core::to_string(t)) + ": set does not apply");
    std::vector<std::string> args = {std::string(core::to_string(t)), encode(name, t, value), name};
    redis_reply r = run_write(scripts::set, scripts::fenced_set, name, args, fence);
    if (r->type != REDIS_REPLY_INTEGER && reply_text(reply_element(r.get(), 0)) == "missing") {
      r = run_write(scripts::set_or_create, scripts::fenced_set_or_create, name, std::move(args), fence, true);
    }
    if (r->type == REDIS_REPLY_INTEGER) {
      remember_type(name, t);
      return static_cast<std::uint64_t>(r->integer);
    }
    t = core::value_type_from_string(reply_text(reply_element(r.get(), 1)));  // {"type", t}
    remember_type(name, t);
  }
  throw error(errc::busy, "variable '" + name + "' kept changing type");
}

json redis_channel::add(const std::string& name, const json& delta, const fence_args* fence) {
  core::value_type t = type_of(name);
  for (int attempt = 0; t == core::value_type::int64 || t == core::value_type::counter; ++attempt) {
    redis_reply r = run_write(scripts::add_int, scripts::fenced_add_int, name,
                              {encode(name, core::value_type::int64, delta), name}, fence);
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (reply_text(reply_element(r.get(), 0)) == "ok") return json::parse(reply_text(reply_element(r.get(), 1)));
    // {"type", t}: deleted and made again with another type meanwhile
    if (attempt == 2) throw error(errc::busy, "variable '" + name + "' kept changing type");
    t = core::value_type_from_string(reply_text(reply_element(r.get(), 1)));
    remember_type(name, t);
  }
  if (t != core::value_type::uint64 && t != core::value_type::float64) {
    throw error(errc::type_mismatch, "add applies to int64, uint64, double and counter; '" + name + "' is " +
                                         std::string(core::to_string(t)));
  }
  // uint64 and double: read, add in C++, store with cas (Lua numbers are doubles).
  while (true) {
    const json now = read(name).value;
    json next;
    if (t == core::value_type::float64) {
      next = core::double_to_json(*core::double_from_json(now) +
                                  *core::double_from_json(json::parse(encode(name, t, delta))));
    } else {
      const auto base = now.get<std::uint64_t>();
      if (!delta.is_number_integer()) throw error(errc::type_mismatch, "a uint64 takes an integer delta");
      const bool negative = delta.is_number_integer() && !delta.is_number_unsigned() && delta.get<std::int64_t>() < 0;
      if (negative) {
        const auto down = static_cast<std::uint64_t>(-(delta.get<std::int64_t>() + 1)) + 1;
        if (down > base)
          throw error(errc::out_of_range, "adding " + delta.dump() + " to '" + name + "' would go below 0");
        next = base - down;
      } else {
        const auto up = delta.get<std::uint64_t>();
        if (base + up < base)
          throw error(errc::out_of_range, "adding " + delta.dump() + " to '" + name + "' would overflow uint64");
        next = base + up;
      }
    }
    const json out = cas(name, now, next, fence);
    if (out.at("ok").get<bool>()) return out.at("value");
  }
}

json redis_channel::cas(const std::string& name, const json& expected, const json& desired, const fence_args* fence) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const core::value_type t = type_of(name);
    if (!holds_a_value(t))
      throw error(errc::type_mismatch, "cas does not apply to " + std::string(core::to_string(t)) + " '" + name + "'");
    redis_reply r =
        run_write(scripts::cas, scripts::fenced_cas, name,
                  {std::string(core::to_string(t)), encode(name, t, expected), encode(name, t, desired), name}, fence);
    if (const redisReply* ok = reply_element(r.get(), 0); ok->type == REDIS_REPLY_INTEGER) {
      return {{"ok", ok->integer == 1}, {"value", json::parse(reply_text(reply_element(r.get(), 1)))}};
    }
    forget(name);
  }
  throw error(errc::busy, "variable '" + name + "' kept changing type");
}

// Without polling: `watch` reads the version and, while it is still SEEN, has the
// value writes publish to the variable's stream; XREAD then blocks for an entry past
// SEEN, so a change made between the two still wakes it. In slices of at most 30 s,
// each watched again: a watch lost otherwise (a clock step, a replica that took over
// without it) costs one slice.
json redis_channel::wait(const std::string& name, std::uint64_t seen, std::int64_t timeout_ms) {
  using namespace std::chrono;
  const std::string stream = value_keys(name)[1];

  // A queue item taken by a consumer whose lease then lapses goes back to the queue
  // only when a script next looks (its get): a waiter on a queue comes back at least
  // once a lease, so a consumer already blocked gets such an item too.
  if (cached_type(name) == value_type::queue) timeout_ms = std::min<std::int64_t>(timeout_ms, url_.lease.count());
  const auto deadline = steady_clock::now() + milliseconds(std::clamp<std::int64_t>(timeout_ms, 0, 3'600'000));
  // How long past a slice writes keep publishing: the XREAD may be resent that late.
  const std::string grace = std::to_string(duration_cast<milliseconds>(link()->resend_window() + seconds(2)).count());
  bool woken = false;  // an entry came: the version is read once more, and that is the answer
  for (bool first = true;; first = false) {
    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    const std::int64_t slice = woken ? 0 : std::clamp<std::int64_t>(left, 0, 30'000);
    std::uint64_t now = seen;
    try {
      now = std::stoull(reply_text(
          run_on_value(scripts::watch, name, {std::to_string(seen), std::to_string(slice), name, grace}).get()));
    } catch (const error& e) {  // deleted while we waited: that is a change (as with a manager)
      if (first || e.code() != errc::not_found) throw;
      return {{"version", seen + 1}, {"changed", true}};
    }
    if (now != seen || slice == 0) return {{"version", now}, {"changed", now != seen}};
    redis_reply entry = link()->command(
        {"XREAD", "BLOCK", std::to_string(slice), "COUNT", "1", "STREAMS", stream, std::to_string(seen) + "-1"}, stream,
        milliseconds(slice));
    if (entry->type == REDIS_REPLY_ERROR && !reply_text(entry.get()).starts_with("UNBLOCKED")) {
      throw error(errc::internal, "Redis refused XREAD on the wait stream: " + reply_text(entry.get()));
    }
    woken = entry->type == REDIS_REPLY_ARRAY;  // nil: the slice ended (UNBLOCKED: a master turned replica)
  }
}

json redis_channel::list(const std::string& prefix) {
  std::vector<std::string> names;
  const std::string pattern = url_.prefix + "{*}";
  auto scanner = link();  // one link for the whole scan: its cursor is per node
  for (const auto& node : scanner->masters()) {
    std::string cursor = "0";
    do {
      redis_reply r = scanner->command_on(node, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
      if (r->type != REDIS_REPLY_ARRAY || r->elements != 2) throw error(errc::internal, "SCAN: " + reply_text(r.get()));
      cursor = reply_text(r->element[0]);
      for (std::size_t i = 0; i < r->element[1]->elements; ++i) {
        const std::string key = reply_text(r->element[1]->element[i]);
        std::string name = key.substr(url_.prefix.size() + 1, key.size() - url_.prefix.size() - 2);
        if (name.starts_with(prefix)) names.push_back(std::move(name));
      }
    } while (cursor != "0");
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return {{"names", names}};
}

json redis_channel::dump(const std::string& prefix) {
  json variables = json::array();
  const json names = list(prefix).at("names");
  for (const auto& name : names) {
    try {
      variable_state got = read(name.get<std::string>());
      variables.push_back({{"name", name},
                           {"type", core::to_string(got.type)},
                           {"version", got.version},
                           {"capacity", 0},
                           {"last_writer_pid", 0},
                           {"last_write_ns", 0},
                           {"value", std::move(got.value)}});
    } catch (const error& e) {
      if (e.code() != errc::not_found) throw;  // deleted meanwhile: left out
    }
  }
  return {{"redis", url_.text}, {"variables", variables}};
}

}  // namespace mpstate::detail
