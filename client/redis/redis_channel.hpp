// SPDX-License-Identifier: MIT
// The Redis backend: a channel that carries out the ops of docs/protocol.md with
// Redis commands and the Lua scripts of redis_scripts.hpp, so every proxy works
// unchanged on "redis://..." (docs/redis.md has the mapping, op by op, and what
// Redis cannot promise).
//
// What a process holds (a lock, an rlock, permits of a semaphore created with
// return_dead_permits, a loop it runs) is a lease of `lease_ms`, renewed by a
// thread of the channel every third of it while the process lives; a holder whose
// lease lapses is dead to the others: the lock is freed and the next acquirer told,
// the loop turns failed.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mpstate/core/layout.hpp"
#include "mpstate/core/op_table.hpp"
#include "redis_link.hpp"
#include "request_channel.hpp"

namespace mpstate::detail {

class redis_channel : public request_channel {
 public:
  // Throws error(invalid_argument) for a bad address, manager_unavailable when no
  // Redis answers there, permission_denied for a refused password.
  explicit redis_channel(const std::string& address);
  ~redis_channel() override;
  std::optional<nlohmann::json> round_trip(const nlohmann::json& request) override;
  std::optional<nlohmann::json> value_call(value_op op, const std::string& name,
                                           const nlohmann::json& operand) override;
  pid_t owner_pid() const override { return owner_pid_; }
  bool outlives_errors() const override { return true; }  // its leases must go on being renewed
  bool concurrent() const override { return true; }       // a link per call in flight (redis_link_pool)
  void abandon_in_child() override;

 private:
  using json = nlohmann::json;
  json dispatch(const std::string& op, const json& request);
  // The ops about one variable (every op but hello, list, dump, stat, shutdown, collect, auth).
  json on_variable(const core::op_spec& spec, const json& request);
  // The variable's keys: hash, wait stream, extra (list or hash), taken items.
  std::string hash_key(const std::string& name) const;  // KEYS[1] of the scripts
  std::vector<std::string> keys_of(const std::string& name) const;
  std::vector<std::string> value_keys(const std::string& name) const;  // the first two
  redis_reply run(const std::string& script, const std::string& name, const std::vector<std::string>& args);
  redis_reply run(std::string&& script, const std::string& name, const std::vector<std::string>& args) = delete;
  // The value writes and watch, which touch the hash and the wait stream only.
  redis_reply run_on_value(const std::string& script, const std::string& name, const std::vector<std::string>& args);
  redis_reply run_on_value(std::string&& script, const std::string& name,
                           const std::vector<std::string>& args) = delete;
  // The variable's type, from the cache or from Redis (not_found when absent).
  core::value_type type_of(const std::string& name);
  // `value` as the canonical JSON text of type t (type_mismatch, out_of_range).
  std::string encode(const std::string& name, core::value_type t, const json& value) const;

  json create(const std::string& name, const json& request);
  struct variable_state {
    core::value_type type;
    json value;  // as the get op answers it
    std::uint64_t version;
  };
  variable_state read(const std::string& name);
  // A fenced write's lock and epoch (the request's "fence"); nullptr: a plain write.
  struct fence_args {
    std::string lock;
    std::string epoch;
  };
  static std::optional<fence_args> fence_of(const json& request);
  // A value write's script: `plain` on the variable's two keys, or with a fence its
  // `fenced` form on six (the lock's two added; one slot on a cluster).
  redis_reply run_write(const std::string& plain, const std::string& fenced, const std::string& name,
                        std::vector<std::string> args, const fence_args* fence, bool all_keys = false);
  std::uint64_t set(const std::string& name, const json& value, const fence_args* fence = nullptr);  // the version
  json add(const std::string& name, const json& delta, const fence_args* fence = nullptr);           // the new value
  json cas(const std::string& name, const json& expected, const json& desired, const fence_args* fence = nullptr);
  json wait(const std::string& name, std::uint64_t seen, std::int64_t timeout_ms);
  json list(const std::string& prefix);
  json dump(const std::string& prefix);
  json stat();
  // redis_channel_sync.cpp: the synchronisation types, loops, events and queues.
  std::vector<std::string> create_fields(const std::string& name, core::value_type t, const json& value) const;
  json value_of(core::value_type t, const std::map<std::string, std::string>& h, const redisReply* extra) const;
  // A value type's value from its stored text (the hash's `v`).
  static json value_from_text(core::value_type t, const std::string& text);
  json lock_op(const std::string& action, const std::string& name, const json& request);
  json loop_op(const std::string& action, const std::string& name, const json& request);
  json queue_op(const std::string& action, const std::string& name, const json& request);
  // redis_channel_parties.cpp: arrays, lists, barriers and conditions.
  core::value_type item_type(const std::string& name);  // an array's, list's or queue's `of`
  std::vector<std::string> encode_items(const std::string& name, core::value_type of, const json& items) const;
  json items_op(const std::string& op, const std::string& name, const json& request);
  json barrier_op(const std::string& action, const std::string& name, const json& request);
  json condition_op(const std::string& action, const std::string& name, const json& request);

  // Leases: what this process holds (with the holding's epoch), renewed by the
  // lease keeper's thread; unhold when it is released.
  void hold(const std::string& name, core::value_type t, std::uint64_t epoch = 0);
  void unhold(const std::string& name);
  static std::string epoch_text(const json& request);
  // The prefix's incarnation, checked on every new connection (link()): throws
  // manager_unavailable, once, when Redis lost the data this client knew.
  void check_incarnation(redis_link& l);
  struct lease_keeper;
  void renew_leases(lease_keeper& k);

  // A link from the pool, its connection checked against the prefix's incarnation.
  redis_link_pool::loan link();
  // The type caches, shared by the calling threads.
  std::optional<core::value_type> cached_type(const std::string& name) const;
  void remember_type(const std::string& name, core::value_type t);
  std::optional<core::value_type> cached_item_type(const std::string& name) const;
  void remember_item_type(const std::string& name, core::value_type t);
  void forget(const std::string& name);

  redis_url url_;
  redis_link_pool links_;
  pid_t owner_pid_;
  std::string owner_;  // "HOST:PID:START": who holds, in the scripts
  mutable std::mutex cache_mutex_;
  std::map<std::string, core::value_type> types_;       // under cache_mutex_
  std::map<std::string, core::value_type> item_types_;  // an array's, list's or queue's item type; likewise

  // What this process holds, and the thread that renews it. On the heap: a forked
  // child abandons it (its mutex and condition variable may be mid-use by the
  // parent's thread, which the child does not have).
  struct held_thing {
    core::value_type type;
    std::uint64_t generation;  // a renewal that finds it gone drops it only if not held again since
    std::uint64_t epoch = 0;   // the holding's (0: none, as a barrier place)
  };
  struct lease_keeper {
    std::mutex mutex;
    std::map<std::string, held_thing> held;  // under mutex
    std::uint64_t holds = 0;                 // under mutex
    std::condition_variable wake;
    bool stopping = false;                // under mutex
    std::unique_ptr<std::thread> thread;  // started at the first hold
  };
  // One pipelined renewal of everything in `held`: the names (and generations) no
  // longer held. Throws when Redis could not be reached.
  std::vector<std::pair<std::string, std::uint64_t>> renew_all(redis_link& link,
                                                               const std::map<std::string, held_thing>& held);
  std::unique_ptr<lease_keeper> leases_ = std::make_unique<lease_keeper>();
  std::string take_owner_;  // owner_ + this channel's number: a queue take's taker
  std::mutex incarnation_mutex_;
  std::string incarnation_;  // "ID:MICROSECONDS" as first met (under incarnation_mutex_)
};

}  // namespace mpstate::detail
