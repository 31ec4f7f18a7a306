// SPDX-License-Identifier: MIT
#include "mpstate/detail/client_core.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <utility>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/core/protocol.hpp"
#include "redis_url.hpp"
#include "socket_channel.hpp"
#if MPSTATE_WITH_REDIS
#include "redis_channel.hpp"
#endif

namespace mpstate::detail {

namespace {
std::shared_ptr<request_channel> open_channel(const std::string& address, const std::string& key) {
  if (is_redis_url(address)) {
#if MPSTATE_WITH_REDIS
    return std::make_shared<redis_channel>(address);
#else
    parse_redis_url(address);  // a bad address is still invalid_argument
    throw error(errc::invalid_argument, "'" + address + "': this mpstate was built without its Redis backend " +
                                            "(MPSTATE_WITH_REDIS=OFF): rebuild with it on, and libhiredis-dev");
#endif
  }
  return std::make_shared<socket_channel>(address, key);
}

// A response's result, or its error thrown.
nlohmann::json result_of(nlohmann::json& response) {
  if (auto it = response.find("error"); it != response.end()) {
    throw error(errc_from_string(it->value("code", "internal")), it->value("message", ""));
  }
  auto result = response.find("result");
  return result != response.end() ? std::move(*result) : nlohmann::json();
}
}  // namespace

client_core::client_core(std::string address, std::string manager_name, bool want_local, bool need_local,
                         std::string key)
    : socket_path_(std::move(address)), manager_name_(std::move(manager_name)), key_(std::move(key)) {
  std::string segment_name;
  try {
    nlohmann::json request = {{"op", "hello"}, {"pid", getpid()}, {"protocol_version", core::protocol_version}};
    // Only a client that maps the segment needs the manager's layout.
    if (want_local) request["layout_version"] = core::layout_version;
    nlohmann::json hello = call(request);
    segment_name = hello.at("segment").get<std::string>();
    {
      std::lock_guard lock(channel_mutex_);
      incarnation_ = hello.value("incarnation", "");
    }
    if (manager_name_.empty()) manager_name_ = hello.value("manager", "");
  } catch (const error& e) {
    // A crashed manager leaves its segment: a local client can still use it.
    if (e.code() != errc::manager_unavailable || !want_local || manager_name_.empty()) throw;
    segment_name = core::segment_name(manager_name_);
    try {
      segment_ = core::segment::open(segment_name);
    } catch (const error& open_error) {
      if (open_error.code() == errc::not_found) throw e;
      throw;
    }
    // Its manager still runs: it is starting (its segment made, its socket not yet
    // listening), not crashed. A client of its segment alone would fail at its first
    // create or wait; say so now, so that the caller can try again.
    const core::segment_header& h = segment_->header();
    const core::process_identity owner{h.manager_pid.load(), h.manager_start_time.load()};
    if (owner.pid == 0 || core::is_alive(owner)) {  // 0: made, not yet claimed by its manager
      segment_.reset();
      throw error(
          errc::manager_unavailable,
          e.message() + (owner.pid == 0 ? std::string(" (its manager is starting: its segment is not claimed yet)")
                                        : " (its manager, pid " + std::to_string(owner.pid) +
                                              ", runs but does not answer yet: starting?)"));
    }
    return;
  }
  if (!want_local) return;
  try {
    segment_ = core::segment::open(segment_name);
  } catch (const error& e) {
    if (need_local || e.code() != errc::permission_denied) throw;
    // Another user's segment: the socket path serves us instead.
  }
}

client_core::~client_core() = default;

void client_core::leave_parents_channel() {
  if (channel_ && channel_->owner_pid() != getpid()) {
    // We are a forked child: the inherited connection is the parent's. Closing our
    // copy of the fd leaves the parent's connection open.
    channel_->abandon_in_child();
    channel_.reset();
  }
}

nlohmann::json client_core::call(const nlohmann::json& request, std::uint64_t* session) {
  std::shared_ptr<request_channel> concurrent;
  {
    std::lock_guard lock(channel_mutex_);
    leave_parents_channel();
    if (!channel_ || !channel_->concurrent()) return call_locked(request, session);
    concurrent = channel_;
    if (session) *session = session_.load(std::memory_order_acquire);
  }
  // A channel that serves threads at once (Redis: a connection per call in flight):
  // no lock is held, so one thread's blocking call never stalls another's.
  std::optional<nlohmann::json> response = concurrent->round_trip(request);
  if (!response) throw error(errc::manager_unavailable, "cannot send to " + socket_path_);
  return result_of(*response);
}

std::string client_core::incarnation() const {
  std::lock_guard lock(channel_mutex_);
  return incarnation_;
}

void client_core::open_new_channel() {
  channel_.reset();
  channel_ = open_channel(socket_path_, key_);
  if (!std::exchange(opened_before_, true)) return;  // the constructor's hello comes next
  if (channel_->ownership_is_per_connection()) session_.fetch_add(1, std::memory_order_acq_rel);
  if (incarnation_.empty()) return;
  nlohmann::json hello = {{"op", "hello"}, {"pid", getpid()}, {"protocol_version", core::protocol_version}};
  if (segment_) hello["layout_version"] = core::layout_version;
  std::optional<nlohmann::json> answer = channel_->round_trip(hello);
  if (!answer) throw error(errc::manager_unavailable, "cannot send to " + socket_path_);
  if (auto it = answer->find("error"); it != answer->end()) {
    throw error(errc_from_string(it->value("code", "internal")), it->value("message", ""));
  }
  const std::string now = answer->value("result", nlohmann::json::object()).value("incarnation", "");
  if (now.empty() || now == incarnation_) return;
  const std::string before = std::exchange(incarnation_, now);
  throw error(errc::manager_unavailable,
              "the manager at " + socket_path_ + " came back with a new segment (incarnation " + before + ", now " +
                  now + "): the variables this client knew are gone with the old one" +
                  (segment_ ? "; connect again to map the new one" : "; requests from now on go to the new one"));
}

nlohmann::json client_core::call_locked(const nlohmann::json& request, std::uint64_t* session) {
  std::optional<nlohmann::json> response;
  try {
    if (!channel_) open_new_channel();
    if (session) *session = session_.load(std::memory_order_acquire);
    response = channel_->round_trip(request);
    if (!response) {
      // Not sent: the manager we knew is gone. A restarted one serves the same
      // path, so resend once on a fresh connection.
      open_new_channel();
      if (session) *session = session_.load(std::memory_order_acquire);
      response = channel_->round_trip(request);
      if (!response) throw error(errc::manager_unavailable, "cannot send to " + socket_path_);
    }
  } catch (const error&) {
    if (channel_ && !channel_->outlives_errors()) channel_.reset();
    throw;
  }
  return result_of(*response);
}

namespace {
// A field every answer to the op has.
nlohmann::json answered(nlohmann::json& result, const char* field, const std::string& op) {
  auto it = result.find(field);
  if (it == result.end()) throw error(errc::internal, "the answer to '" + op + "' has no '" + field + "'");
  return std::move(*it);
}
}  // namespace

nlohmann::json client_core::value_call(value_op op, const std::string& name, const nlohmann::json& operand) {
  std::unique_lock lock(channel_mutex_);
  leave_parents_channel();
  if (channel_ && channel_->concurrent()) {
    const std::shared_ptr<request_channel> concurrent = channel_;
    lock.unlock();  // as in call(): nothing held across the round trip
    if (auto answer = concurrent->value_call(op, name, operand)) return std::move(*answer);
    lock.lock();
  } else if (channel_) {
    try {
      if (auto answer = channel_->value_call(op, name, operand)) return std::move(*answer);
    } catch (const error& e) {
      if (e.code() == errc::manager_unavailable && !channel_->outlives_errors()) channel_.reset();
      throw;
    }
  }
  nlohmann::json result;
  switch (op) {
    case value_op::get:
      result = call_locked({{"op", "get"}, {"name", name}});
      return answered(result, "value", "get");
    case value_op::set:
      result = call_locked({{"op", "set"}, {"name", name}, {"value", operand}});
      return answered(result, "version", "set");
    case value_op::add:
      result = call_locked({{"op", "add"}, {"name", name}, {"delta", operand}});
      return answered(result, "value", "add");
  }
  throw error(errc::internal, "unknown value op");
}

}  // namespace mpstate::detail
