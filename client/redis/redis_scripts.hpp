// SPDX-License-Identifier: MIT
// The Lua scripts the Redis backend runs, one file each in lua/ (embedded at build
// time by cmake/embed_lua.cmake; each file's opening comment gives its ARGVs and
// replies, docs/redis.md what it does and why). Every script touches the keys of
// one variable only, which share a hash tag, so each runs atomically on one Redis
// Cluster slot:
//   KEYS[1] = P{name}        a hash: t (type), ver (version), v (the value as JSON
//                            text), wu (watched until: server ms while a `wait`
//                            may be blocked) and the type's own fields
//   KEYS[2] = P{name}:w      a stream: one entry "VER-1" per change, for `wait`
//   KEYS[3] = P{name}:x      the type's extra key: a queue's items (a list), a
//                            semaphore's holders (a hash)
//   KEYS[4] = P{name}:t      a queue's items taken and not yet acknowledged (a hash)
// Errors come back as "MPSTATE <code> <message>" (codes as in docs/protocol.md).
// Each is a std::string that lives as long as the process: redis_link keeps the
// SHA of a script by its address.
#pragma once

#include <string>

namespace mpstate::detail::redis_scripts {

// Values (lua/create.lua ... lua/remove.lua).
extern const std::string create, read, set, set_or_create, add_int, cas, watch, remove;
// The value writes made with a fence: lua/fence_check.lua, then the write's script,
// so the check and the write are one atomic step (six keys).
extern const std::string fenced_set, fenced_set_or_create, fenced_add_int, fenced_cas;
// Locks and semaphores, loops, events, queues (the families of core/sync_ops,
// loop_ops, queue_ops).
extern const std::string lock, loop, event, queue;
// Arrays and lists, barriers, conditions (core/array_ops, condition_ops).
extern const std::string items, barrier, condition;

}  // namespace mpstate::detail::redis_scripts
