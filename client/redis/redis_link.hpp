// SPDX-License-Identifier: MIT
// Connections to Redis for the Redis backend (hiredis): one server, or the masters
// of a Redis Cluster, with commands routed by their key's hash slot, MOVED and ASK
// followed, and the slot map reloaded after a failover.
#pragma once

#include <hiredis/hiredis.h>

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redis_url.hpp"

namespace mpstate::detail {

struct redis_reply_free {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using redis_reply = std::unique_ptr<redisReply, redis_reply_free>;

// The text of a string, status or error reply ("" for others).
std::string reply_text(const redisReply* r);
// Element I of an array reply; error(internal) when R is not one or is shorter.
const redisReply* reply_element(const redisReply* r, std::size_t i);
// A script's reply, or the error it raised thrown: "MPSTATE <code> <message>" as
// error(code, message), another error reply as error(internal).
redis_reply checked_script_reply(redis_reply r);
// A flat array reply (HGETALL's field, value, ...) as a map.
std::map<std::string, std::string> reply_map(const redisReply* flat);

// A command's words: views of strings that outlive the call (literals, the caller's
// strings, or temporaries of the same full expression).
using redis_args = std::vector<std::string_view>;

class redis_link {
 public:
  // Connects to the server (or a seed of the cluster, and loads its slot map).
  // Throws error(manager_unavailable) when none answers, error(permission_denied)
  // when the password is refused.
  // `patient`: retry a command that could not be sent (a restart, a failover);
  // false: fail at once (the lease renewer, which must not stall on one node).
  explicit redis_link(const redis_url& url, bool patient = true);
  ~redis_link();
  redis_link(const redis_link&) = delete;
  redis_link& operator=(const redis_link&) = delete;

  // Runs a command on the node that serves `key` (a cluster: its hash slot; else
  // the server). A command that could not be sent is retried for a while (a
  // restart, a failover); one whose answer was lost throws manager_unavailable (it
  // may have been applied). `wait` is how long the command may block (XREAD).
  redis_reply command(const redis_args& argv, std::string_view key,
                      std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Runs a script (EVALSHA, loading it where it is missing) on the node of keys[0].
  // `source` must live as long as the link (one of redis_scripts'): its SHA is kept
  // by its address, not found again by comparing texts on every call.
  // An error the script raised as "MPSTATE <code> <message>" is thrown as
  // error(code, message); other error replies as error(internal).
  redis_reply script(const std::string& source, const std::vector<std::string>& keys,
                     const std::vector<std::string>& args);
  redis_reply script(std::string&& source, const std::vector<std::string>&, const std::vector<std::string>&) = delete;
  // Many scripts in one round trip per node: the EVALSHAs pipelined (one write, then
  // the replies read), for the lease renewer. Each reply as script() returns it, in
  // order. One that was not run there (a redirect, NOSCRIPT, a node not ready), or
  // whose script could not be loaded first, is run alone as script() runs it. An
  // error a script raised is in its reply: throw it with checked_script_reply(). A
  // call whose node could not be reached, or whose connection broke, has no reply
  // (null; it may have been applied), and the other nodes' calls go on.
  struct script_call {
    const std::string* source;  // one of redis_scripts', as for script()
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  std::vector<redis_reply> scripts(const std::vector<script_call>& calls);
  // How long a command that could not be sent is tried again (0: not patient).
  std::chrono::seconds resend_window() const;
  // The masters ("HOST:PORT"), for commands every node must run (SCAN).
  std::vector<std::string> masters();
  // Runs a command on one node by address (one of masters()).
  redis_reply command_on(const std::string& node, const redis_args& argv);
  const redis_url& url() const { return url_; }
  // Connections made so far (a reconnect after a restart or failover adds one): the
  // channel checks the prefix's incarnation once per new connection.
  std::uint64_t connections() const { return connections_; }

 private:
  redisContext* context(const std::string& node);
  void drop(const std::string& node);
  void load_slots();
  std::string node_for(std::string_view key);
  redis_reply send(redisContext* c, const redis_args& argv, bool asking);
  // script() without the error check: the reply as Redis gave it.
  redis_reply script_unchecked(const std::string& source, const std::vector<std::string>& keys,
                               const std::vector<std::string>& args);
  bool write_wire(redisContext* c);  // wire_, whole; false (and c->err set) when it could not
  const std::string& sha_of(const std::string& source, std::string_view key);

  redis_url url_;
  bool patient_;
  std::map<std::string, redisContext*> contexts_;   // by "HOST:PORT", or the socket path
  std::vector<std::string> slots_;                  // a cluster: the node of each slot
  std::string wire_;                                // the command being sent (its storage reused)
  std::map<const std::string*, std::string> shas_;  // a script source's address -> SHA1 (from SCRIPT LOAD)
  std::uint64_t connections_ = 0;
};

// The links of one channel, for callers on several threads: each command borrows one
// (made when none is free) and gives it back, so a thread blocked in XREAD holds only
// its own while the others' commands go on. At most `keep` idle links are kept.
class redis_link_pool {
 public:
  explicit redis_link_pool(const redis_url& url, std::size_t keep = 4) : url_(url), keep_(keep) {}
  struct pooled {
    std::unique_ptr<redis_link> link;
    std::uint64_t checked = 0;  // link->connections() when the channel last checked the incarnation
  };
  // A borrowed link, given back when it goes.
  class loan {
   public:
    loan(redis_link_pool& pool, pooled item) : pool_(&pool), item_(std::move(item)) {}
    loan(loan&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), item_(std::move(other.item_)) {}
    loan& operator=(loan&&) = delete;
    ~loan() {
      if (pool_) pool_->give_back(std::move(item_));
    }
    redis_link* operator->() const { return item_.link.get(); }
    redis_link& operator*() const { return *item_.link; }
    std::uint64_t& checked() { return item_.checked; }

   private:
    redis_link_pool* pool_;
    pooled item_;
  };
  // Throws what redis_link's constructor throws when a new one cannot be made.
  loan borrow();

 private:
  void give_back(pooled item);
  redis_url url_;
  std::size_t keep_;
  std::mutex mutex_;
  std::vector<pooled> idle_;  // under mutex_
};

// The Redis Cluster hash slot of a key (CRC16 of its {hash tag}, mod 16384).
unsigned hash_slot(std::string_view key);

}  // namespace mpstate::detail
