// SPDX-License-Identifier: MIT
#include "op_call.hpp"

#include <nlohmann/json.hpp>

#include "mpstate/core/names.hpp"

namespace mpstate::manager {

using namespace mpstate::core;

namespace {
std::optional<std::uint64_t> epoch_field(const json& object) {
  if (!object.contains("epoch")) return std::nullopt;
  const json& e = object["epoch"];
  if (!e.is_number_unsigned() && !(e.is_number_integer() && e.get<std::int64_t>() >= 0)) {
    throw error(errc::bad_request, "field 'epoch' must be an integer >= 0");
  }
  return e.get<std::uint64_t>();
}
}  // namespace

variable_record& op_call::existing() const {
  std::string name = require_string(request, "name");
  validate_variable_name(name);
  variable_record* r = segment.find(name);
  if (!r) throw error(errc::not_found, "no variable '" + name + "'");
  return *r;
}

process_identity op_call::owner() const {
  if (peer.remote) {
    if (request.contains("pid")) {
      throw error(errc::invalid_argument,
                  "'pid' is not accepted over TCP: what a remote client owns is "
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

sync_actor op_call::actor() const { return {owner(), static_cast<std::int32_t>(optional_integer(request, "tid", 0))}; }

std::optional<std::uint64_t> op_call::epoch() const { return epoch_field(request); }

std::optional<op_call::fence_spec> op_call::fence() const {
  auto it = request.find("fence");
  if (it == request.end()) return std::nullopt;
  if (!it->is_object())
    throw error(errc::bad_request, "field 'fence' must be an object {\"lock\": NAME, \"epoch\": N}");
  fence_spec f{require_string(*it, "lock"), 0};
  validate_variable_name(f.lock);
  const auto epoch = epoch_field(*it);
  if (!epoch) throw error(errc::missing_field, "missing field 'epoch' in 'fence'");
  f.epoch = *epoch;
  return f;
}

variable_record& op_call::fence_lock(const fence_spec& f) const {
  variable_record* lock = segment.find(f.lock);
  if (!lock) throw error(errc::ownership_lost, "the fence's lock '" + f.lock + "' does not exist (deleted?)");
  return *lock;
}

}  // namespace mpstate::manager
