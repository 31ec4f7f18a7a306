// SPDX-License-Identifier: MIT
// The Redis backend's arrays, lists, barriers and conditions (redis_channel.hpp):
// the ops of docs/protocol.md, "Arrays and lists" and "Synchronisation types".
#include <nlohmann/json.hpp>

#include "mpstate/core/protocol.hpp"
#include "mpstate/core/value_codec.hpp"
#include "mpstate/error.hpp"
#include "redis_channel.hpp"
#include "redis_scripts.hpp"

namespace mpstate::detail {

namespace {
using json = nlohmann::json;
using core::value_type;
namespace scripts = redis_scripts;

std::string index_of(const json& request, const char* fallback) {
  const json index = request.value("index", json::parse(fallback));
  if (!index.is_number_integer()) throw error(errc::bad_request, "field 'index' must be an integer");
  return std::to_string(index.get<std::int64_t>());
}

std::string owner_tid(const json& request) { return std::to_string(request.value("tid", 0)); }
}  // namespace

value_type redis_channel::item_type(const std::string& name) {
  if (auto known = cached_item_type(name)) return *known;
  const variable_state got = read(name);
  if (got.type != value_type::array && got.type != value_type::list && got.type != value_type::queue) {
    throw error(errc::type_mismatch, "variable '" + name + "' is " + std::string(core::to_string(got.type)) +
                                         ", not an array, list or queue");
  }
  const core::value_type of = core::value_type_from_string(got.value.at("of").get<std::string>());
  remember_item_type(name, of);
  return of;
}

std::vector<std::string> redis_channel::encode_items(const std::string& name, value_type of, const json& items) const {
  if (!items.is_array()) throw error(errc::bad_request, "'items' must be an array");
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(encode(name, of, item));
  return out;
}

json redis_channel::items_op(const std::string& op, const std::string& name, const json& request) {
  const value_type of = item_type(name);
  if (op == "item_get") {
    redis_reply r = run(scripts::items, name, {"get", name, index_of(request, "null"), ""});
    return {{"value", json::parse(reply_text(r.get()))}};
  }
  if (op == "item_set") {
    redis_reply r =
        run(scripts::items, name,
            {"set", name, index_of(request, "null"), encode(name, of, core::require_field(request, "value"))});
    return {{"version", r->integer}};
  }
  if (op == "list_insert") {
    redis_reply r =
        run(scripts::items, name,
            {"insert", name, index_of(request, "null"), encode(name, of, core::require_field(request, "value"))});
    return {{"size", r->integer}};
  }
  if (op == "list_pop") {
    redis_reply r = run(scripts::items, name, {"pop", name, index_of(request, "-1"), ""});
    return {{"value", json::parse(reply_text(r.get()))}};
  }
  if (op != "list_append" && op != "replace") throw error(errc::unknown_op, "unknown op '" + op + "'");
  // list_append: `value` or `items`; replace (set of an array or list): the items.
  std::vector<std::string> args = {op == "list_append" ? "append" : "replace", name, "0"};
  json all = op == "list_append" && request.contains("value") ? json::array({request.at("value")})
             : request.contains("items")                      ? request.at("items")
                                                              : core::require_field(request, "value");
  if (all.is_object()) all = all.value("items", json::array());
  for (auto& text : encode_items(name, of, all)) args.push_back(std::move(text));
  redis_reply r = run(scripts::items, name, args);
  if (op == "list_append") return {{"size", r->integer}};
  return {{"version", r->integer}};
}

json redis_channel::barrier_op(const std::string& action, const std::string& name, const json& request) {
  if (action != "arrive" && action != "check" && action != "abort" && action != "reset" && action != "trip") {
    throw error(errc::unknown_op, "unknown op 'barrier_" + action + "'");
  }
  const std::string generation = std::to_string(request.value("generation", std::int64_t{0}));
  const std::string hold_trip = request.value("hold", false) ? "1" : "0";
  redis_reply r =
      run(scripts::barrier, name, {action, owner_, std::to_string(url_.lease.count()), generation, name, hold_trip});
  if (action == "arrive") {
    hold(name, value_type::barrier);  // our place is a lease while we wait
    return {{"generation", r->element[0]->integer},
            {"index", r->element[1]->integer},
            {"trip", r->element[2]->integer == 1}};
  }
  if (action == "check") return {{"passed", r->integer == 1}};
  return json::object();
}

json redis_channel::condition_op(const std::string& action, const std::string& name, const json& request) {
  if (action != "wait" && action != "check" && action != "cancel" && action != "notify") {
    throw error(errc::unknown_op, "unknown op 'condition_" + action + "'");
  }
  const std::string n = std::to_string(request.value("n", std::int64_t{1}));
  redis_reply r =
      run(scripts::condition, name, {action, owner_, owner_tid(request), std::to_string(url_.lease.count()), n, name});
  if (action == "wait") {
    hold(name, value_type::condition);  // our place among the waiters is a lease
    return {{"depth", r->integer}};
  }
  if (action == "notify") return {{"woken", r->integer}};
  return {{"notified", r->integer == 1}};
}

}  // namespace mpstate::detail
