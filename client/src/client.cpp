// SPDX-License-Identifier: MIT
#include "mpstate/client.hpp"

#include <nlohmann/json.hpp>

#include "mpstate/core/auth.hpp"
#include "mpstate/core/dump.hpp"
#include "mpstate/core/names.hpp"
#include "redis_url.hpp"

namespace mpstate {

namespace {
std::shared_ptr<detail::client_core> connect(const ClientOptions& o) {
  if (o.manager_name.empty() && o.socket_path.empty()) {
    throw error(errc::invalid_argument, "a client needs a manager name or a socket path");
  }
  // A Redis URL: the Redis backend (docs/redis.md); every operation goes to Redis.
  if (detail::is_redis_url(o.manager_name) || detail::is_redis_url(o.socket_path)) {
    const std::string& url = detail::is_redis_url(o.manager_name) ? o.manager_name : o.socket_path;
    detail::parse_redis_url(url);  // a bad address is invalid_argument, not "unavailable"
    if (o.transport == Transport::local) {
      throw error(errc::invalid_argument,
                  "Redis cannot be mapped (Transport::local): " + detail::parse_redis_url(url).text);
    }
    return std::make_shared<detail::client_core>(url, "", false, false);
  }
  // tcp://HOST:PORT, as the name or the socket: everything goes over the wire.
  if (core::is_network_url(o.manager_name) || core::is_network_url(o.socket_path)) {
    const std::string& url = core::is_network_url(o.manager_name) ? o.manager_name : o.socket_path;
    core::parse_tcp_address(url);  // a bad address is invalid_argument, not "unavailable"
    if (o.transport == Transport::local) {
      throw error(errc::invalid_argument, "a manager at " + url + " cannot be mapped (Transport::local)");
    }
    return std::make_shared<detail::client_core>(url, "", false, false,
                                                 o.key.empty() ? core::key_from_environment() : o.key);
  }
  if (!o.manager_name.empty()) core::validate_manager_name(o.manager_name);
  std::string path = o.socket_path.empty() ? core::default_socket_path(o.manager_name) : o.socket_path;
  return std::make_shared<detail::client_core>(path, o.manager_name, o.transport != Transport::socket,
                                               o.transport == Transport::local);
}
}  // namespace

Client::Client(const std::string& manager_name) : Client(ClientOptions{.manager_name = manager_name}) {}

Client::Client(const ClientOptions& options) : core_(connect(options)) {}

bool Client::is_local() const { return core_->segment() != nullptr; }

bool Client::manager_ended() const { return core_->segment() && core_->segment()->ended(); }

Lock Client::lock(std::string_view name) const { return ensure_bound<Lock>(name, "lock", nullptr); }
RLock Client::rlock(std::string_view name) const { return ensure_bound<RLock>(name, "rlock", nullptr); }
namespace {
nlohmann::json semaphore_shape(std::int64_t permits, PermitRecovery recovery) {
  if (recovery == PermitRecovery::none) return permits;
  return {{"permits", permits}, {"return_dead_permits", true}};
}
}  // namespace

Semaphore Client::semaphore(std::string_view name, std::int64_t permits, PermitRecovery recovery) const {
  return ensure_bound<Semaphore>(name, "semaphore", semaphore_shape(permits, recovery));
}
BoundedSemaphore Client::bounded_semaphore(std::string_view name, std::int64_t permits, PermitRecovery recovery) const {
  return ensure_bound<BoundedSemaphore>(name, "bounded_semaphore", semaphore_shape(permits, recovery));
}
Event Client::event(std::string_view name) const { return ensure_bound<Event>(name, "event", nullptr); }
Condition Client::condition(std::string_view name) const { return ensure_bound<Condition>(name, "condition", nullptr); }
Barrier Client::barrier(std::string_view name, std::int64_t parties) const {
  return ensure_bound<Barrier>(name, "barrier", parties);
}

LoopState Client::loop(std::string_view name) const { return ensure_bound<LoopState>(name, "loop", nullptr); }
Counter Client::counter(std::string_view name, std::int64_t initial) const {
  return ensure_bound<Counter>(name, "counter", initial);
}

void Client::create_variable(std::string_view name, std::string_view type, const nlohmann::json& initial,
                             std::uint64_t capacity) const {
  nlohmann::json req = {{"op", "create"}, {"name", name}, {"type", type}};
  if (!initial.is_null()) req["value"] = initial;
  if (capacity) req["capacity"] = capacity;
  core_->call(req);
}

void Client::ensure_variable(std::string_view name, std::string_view type, const nlohmann::json& initial,
                             std::uint64_t capacity) const {
  if (core::segment* s = core_->segment(); s && s->find(name)) return;  // no round trip
  try {
    create_variable(name, type, initial, capacity);
  } catch (const error& e) {
    if (e.code() != errc::already_exists) throw;  // another process created it first
  }
}

void Client::create_value(std::string_view name, core::value_type type, std::string_view initial,
                          std::uint64_t capacity, bool if_absent) const {
  const nlohmann::json value = core::element_to_json(type, std::string(initial));
  if (if_absent)
    ensure_variable(name, core::to_string(type), value, capacity);
  else
    create_variable(name, core::to_string(type), value, capacity);
}

void Client::ensure_queue(std::string_view name, core::value_type element, std::uint64_t maxsize,
                          std::uint64_t item_size) const {
  nlohmann::json shape = {{"of", core::to_string(element)}, {"maxsize", maxsize}};
  if (!core::is_scalar(element)) shape["item_size"] = item_size;
  ensure_variable(name, "queue", shape, 0);
}

void Client::ensure_sequence(std::string_view name, core::value_type kind, core::value_type element,
                             std::uint64_t size) const {
  nlohmann::json shape = {{"of", core::to_string(element)}};
  if (kind == core::value_type::array)
    shape["size"] = size;
  else
    shape["items"] = nlohmann::json::array();
  ensure_variable(name, core::to_string(kind), shape, 0);
}

void Client::remove(std::string_view name) const { core_->call({{"op", "delete"}, {"name", name}}); }

bool Client::set_collectable(std::string_view name, bool collectable) const {
  core::segment* s = core_->segment();
  if (!s) return false;
  core::variable_record* r = s->find(name, /*bind=*/true);  // bound: not freed meanwhile
  if (!r) return false;
  if (collectable)
    r->flags.fetch_or(core::record_flag_collectable, std::memory_order_acq_rel);
  else
    r->flags.fetch_and(~core::record_flag_collectable, std::memory_order_acq_rel);
  detail::give_back(*core_, r, std::string(name));
  return true;
}

std::optional<std::string> Client::type_of(std::string_view name) const {
  if (auto type = detail::variable_type(*core_, std::string(name))) return std::string(core::to_string(*type));
  return std::nullopt;
}

std::vector<std::string> Client::list(std::string_view prefix) const {
  if (core::segment* s = core_->segment()) return s->list_names(prefix);
  return core_->call({{"op", "list"}, {"prefix", prefix}}).at("names").get<std::vector<std::string>>();
}

nlohmann::json Client::dump(std::string_view prefix) const {
  if (core::segment* s = core_->segment()) return core::dump_json(*s, prefix);
  return core_->call({{"op", "dump"}, {"prefix", prefix}});
}

nlohmann::json Client::request(const nlohmann::json& request) const { return core_->call(request); }

}  // namespace mpstate
