// SPDX-License-Identifier: MIT
// The Lua scripts the Redis backend runs (docs/redis.md says what each does and
// why). Every script touches the keys of one variable only, which share a hash tag,
// so each runs atomically on one Redis Cluster slot:
//   KEYS[1] = P{name}        a hash: t (type), ver (version), v (the value as JSON
//                            text), wu (watched until: server ms while a `wait`
//                            may be blocked) and the type's own fields
//   KEYS[2] = P{name}:w      a stream: one entry "VER-1" per change, for `wait`
//   KEYS[3] = P{name}:x      the type's extra key: a queue's items (a list), a
//                            semaphore's holders (a hash)
//   KEYS[4] = P{name}:t      a queue's items taken and not yet acknowledged (a hash)
// Errors come back as "MPSTATE <code> <message>" (codes as in docs/protocol.md).
#pragma once

#include <string>

namespace mpstate::detail::redis_scripts {

// create: ARGV type, name, the number of field ARGVs, the field/value pairs for the
// hash, then the items (arrays, lists). Returns the version.
extern const std::string create;
// read: ARGV name. Returns {hash as a flat list, the extra key's contents, a
// condition's notified waiters}.
extern const std::string read;
// The value writes (set, add_int, cas) and watch take two keys only: KEYS[1] and
// KEYS[2].
// set: ARGV type (the one the client encoded for), text, name. Returns the version,
// {"type", the variable's type} when it has another, or {"missing"}.
extern const std::string set;
// set_or_create (all four keys): as set, and creates the variable when absent.
extern const std::string set_or_create;
// add_int: ARGV delta, name. An int64 only: the new value (an integer below 2^53;
// past it {"ok", its text}) or {"type", type}.
extern const std::string add_int;
// cas: ARGV type, expected text, desired text, name. {1|0, value text} or {"type", t}.
extern const std::string cas;
// Fenced writes (set, add, cas with a fence): the same scripts after a check of the
// fence's lock, so the check and the write are one atomic step. Six keys: the
// variable's four, then the lock's hash and its holders; two more ARGVs at the end:
// the lock's name and the epoch. ownership_lost when the lock is not held with that
// epoch (released, taken by another, its holder's lease lapsed). Every key must be
// on one Redis Cluster slot.
extern const std::string fenced_set;
extern const std::string fenced_set_or_create;
extern const std::string fenced_add_int;
extern const std::string fenced_cas;
// watch: ARGV seen version, milliseconds the caller will block, name, grace ms.
// Returns the version; when it is SEEN, writes publish to the stream until the block
// and the grace are over.
extern const std::string watch;
// remove: ARGV name. Deletes the variable (its wait stream stays a day, so a
// re-created variable carries its versions on and no waiter misses the delete).
extern const std::string remove;
// lock: ARGV action (acquire|release|renew), owner, tid, lease ms, holder pid, name,
// and for release and renew the holding's epoch ("" for none); for a lock, rlock,
// semaphore or bounded_semaphore. acquire returns {1|0, owner died 1|0, epoch};
// release {kept}; renew 1 while held (with that epoch). A release made as an epoch
// that is no longer the holding's fails ownership_lost.
extern const std::string lock;
// loop: ARGV action (get|mark|heartbeat|stop|renew), owner, pid, lease ms, state or
// count, reason, name, the ownership's epoch ("" for none). Returns the hash as a
// flat list (renew: 1 while owned); `starting` begins a new epoch (the hash's
// `epoch`), and a mark or heartbeat made as an ended one fails ownership_lost.
extern const std::string loop;
// event: ARGV 1|0, name.
extern const std::string event;
// queue: ARGV action (put|get|ack|done), name, taker, lease ms, item text.
// put {1|0, version}; get {1|0, item, version}; ack 1 (0: the take had lapsed);
// done {unfinished}.
extern const std::string queue;
// items (arrays, lists): ARGV action (get|set|replace|append|insert|pop), name,
// index, item(s). get/pop the item text; set/replace the version; append/insert the size.
extern const std::string items;
// barrier: ARGV action (arrive|check|renew|abort|reset), owner, lease ms,
// generation, name. arrive {generation, index}; check 1|0 (broken_barrier).
extern const std::string barrier;
// condition: ARGV action (wait|check|cancel|renew|notify), owner, tid, lease ms, n,
// name. wait: the lock depth given up; check/cancel 1|0 (notified); notify: woken.
extern const std::string condition;

}  // namespace mpstate::detail::redis_scripts
