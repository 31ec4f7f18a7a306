// SPDX-License-Identifier: MIT
#include "redis_scripts.hpp"

#include <string_view>

namespace mpstate::detail::redis_scripts {

// What every script starts with. Versions: `ver` in the hash, and one stream entry
// "VER-1" per change, so `XREAD BLOCK ... STREAMS P{name}:w SEEN-1` returns as soon
// as the version passes SEEN, however late the reader comes. The stream is trimmed
// approximately (MAXLEN ~ 1: at most one stream node, ~100 entries): an exact
// MAXLEN 1 cost the server 7 µs a write, this 2.
//
// The value writes (set, add, cas) are the hot path and publish a change only while
// a waiter watches: `watch` (what `wait` runs before its XREAD) sets the hash's `wu`
// to the server time until which someone may be blocked on the stream; a write made
// before it is in the version `watch` returns, one made after it sees `wu` and adds
// the entry. Every other script publishes each change (they are rarer, and their
// waiters are the blocking proxies). Each `local function` costs the server time on
// every call: the hot scripts define none unless a waiter watches (`when_watched`),
// and `base`, what they then need, is apart from the rest.
namespace {
constexpr std::string_view base = R"lua(
local K, W, X = KEYS[1], KEYS[2], KEYS[3]
local function fail(code, message) error({err = 'MPSTATE ' .. code .. ' ' .. message}) end
local function decimal(n) return string.format('%d', n) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function last_version()
  local last = redis.call('XREVRANGE', W, '+', '-', 'COUNT', 1)
  if #last == 0 then return 0 end
  return tonumber(string.match(last[1][1], '^(%d+)'))
end
local function publish(ver)
  local added = redis.pcall('XADD', W, 'MAXLEN', '~', '1', decimal(ver) .. '-1', 'v', ver)
  if type(added) == 'table' and added.err then  -- the hash lost its count: go on from the stream's
    ver = last_version() + 1
    redis.call('HSET', K, 'ver', ver)
    redis.call('XADD', W, 'MAXLEN', '~', '1', decimal(ver) .. '-1', 'v', ver)
  end
  return ver
end
local function bump() return publish(redis.call('HINCRBY', K, 'ver', 1)) end
-- After a hot-path write set the hash's version to VER: published if WATCHED_UNTIL
-- (the hash's `wu`) is not past; a past one is dropped, so later writes skip the
-- clock too. Returns the version (publish may have moved it on).
local function announce(ver, watched_until)
  if now_ms() <= tonumber(watched_until) then return publish(ver) end
  redis.call('HDEL', K, 'wu')
  return ver
end
)lua";

constexpr std::string_view rest = R"lua(
local function now_ns()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2])) .. '000'
end
local function existing(name)
  local t = redis.call('HGET', K, 't')
  if not t then fail('not_found', "no variable '" .. name .. "'") end
  return t
end
local function mismatch(name, t, wanted) fail('type_mismatch', "variable '" .. name .. "' is " .. t .. ', not ' .. wanted) end
-- RPUSH (or LPUSH) a Lua array in chunks: unpack() takes at most ~8000 values.
local function push_all(command, key, values, first)
  for i = first or 1, #values, 1000 do
    redis.call(command, key, unpack(values, i, math.min(i + 999, #values)))
  end
end
-- A list element no JSON item can equal (items are JSON text; this has a NUL byte).
local MARK = 'mpstate\0mark'
local function make(t, fields)
  local ver = last_version()
  redis.call('PERSIST', W)
  redis.call('DEL', X)
  redis.call('HSET', K, 't', t, 'ver', ver)
  if #fields > 0 then redis.call('HSET', K, unpack(fields)) end
  return bump()
end
)lua";

const std::string prelude = std::string(base) + std::string(rest);

// The hot path: one HMGET, the write, and the version set; no function is defined
// (each costs the server time on every call) unless a waiter watches, when `base`
// comes in to announce the change.
std::string when_watched(std::string_view watched_until, std::string_view ver) {
  return "if " + std::string(watched_until) + " then\n" + std::string(base) + "\n" + std::string(ver) + " = announce(" +
         std::string(ver) + ", " + std::string(watched_until) + ")\nend\n";
}
}  // namespace

const std::string create = std::string(prelude) + R"lua(
if redis.call('EXISTS', K) == 1 then fail('already_exists', "variable '" .. ARGV[2] .. "' already exists") end
local count = tonumber(ARGV[3])
local fields, items = {}, {}
for i = 4, 3 + count do fields[#fields + 1] = ARGV[i] end
for i = 4 + count, #ARGV do items[#items + 1] = ARGV[i] end
local ver = make(ARGV[1], fields)
push_all('RPUSH', X, items)
return ver
)lua";

const std::string read = std::string(prelude) + R"lua(
local t = existing(ARGV[1])
local extra = {}
if t == 'queue' or t == 'array' or t == 'list' or t == 'condition' then extra = redis.call('LRANGE', X, 0, -1)
elseif t == 'semaphore' or t == 'bounded_semaphore' or t == 'barrier' then extra = redis.call('HGETALL', X) end
local notified = 0  -- a condition's waiters notified and not yet gone
if t == 'condition' then
  for _, field in ipairs(redis.call('HKEYS', KEYS[4])) do
    if string.sub(field, 1, 2) == 'n:' then notified = notified + 1 end
  end
end
return {redis.call('HGETALL', K), extra, notified}
)lua";

const std::string set_or_create = std::string(prelude) + R"lua(
local t = redis.call('HGET', K, 't')
if not t then return make(ARGV[1], {'v', ARGV[2]}) end
if t ~= ARGV[1] then return {'type', t} end
redis.call('HSET', K, 'v', ARGV[2])
return bump()
)lua";

const std::string set = R"lua(
local h = redis.call('HMGET', KEYS[1], 't', 'ver', 'wu')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[1] then return {'type', h[1]} end
local ver = (tonumber(h[2]) or 0) + 1
redis.call('HSET', KEYS[1], 'ver', string.format('%d', ver), 'v', ARGV[2])
)lua" + when_watched("h[3]", "ver") + R"lua(
return ver
)lua";

// HINCRBY's integer arithmetic (and its overflow check); formatting a number in Lua
// would cost the server more than the second HINCRBY, of the version, does. A sum
// Lua's doubles cannot hold exactly (2^53 and past) is read back as text.
const std::string add_int = R"lua(
local h = redis.call('HMGET', KEYS[1], 't', 'wu')
if h[1] ~= 'int64' then
  if not h[1] then return redis.error_reply("MPSTATE not_found no variable '" .. ARGV[2] .. "'") end
  return {'type', h[1]}
end
local sum = redis.pcall('HINCRBY', KEYS[1], 'v', ARGV[1])
if type(sum) ~= 'number' then
  return redis.error_reply('MPSTATE out_of_range adding ' .. ARGV[1] .. " to '" .. ARGV[2] .. "' would overflow int64")
end
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
)lua" + when_watched("h[2]", "ver") + R"lua(
if -9007199254740992 < sum and sum < 9007199254740992 then return sum end
return {'ok', redis.call('HGET', KEYS[1], 'v')}
)lua";

const std::string cas = R"lua(
local h = redis.call('HMGET', KEYS[1], 't', 'ver', 'wu', 'v')
if not h[1] then return redis.error_reply("MPSTATE not_found no variable '" .. ARGV[4] .. "'") end
if h[1] ~= ARGV[1] then return {'type', h[1]} end
if h[4] ~= ARGV[2] then return {0, h[4]} end
local ver = (tonumber(h[2]) or 0) + 1
redis.call('HSET', KEYS[1], 'ver', string.format('%d', ver), 'v', ARGV[3])
)lua" + when_watched("h[3]", "ver") + R"lua(
return {1, ARGV[3]}
)lua";

// The watch is kept GRACE ms past the caller's block: the XREAD arrives a round trip
// later, or as late as the client resends a command (a restart, a cluster's election).
const std::string watch = std::string(base) + R"lua(
local h = redis.call('HMGET', K, 'ver', 'wu')
if not h[1] then fail('not_found', "no variable '" .. ARGV[3] .. "'") end
if tonumber(h[1]) == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
  local until_ms = now_ms() + tonumber(ARGV[2]) + tonumber(ARGV[4])
  if not h[2] or tonumber(h[2]) < until_ms then redis.call('HSET', K, 'wu', decimal(until_ms)) end
end
return h[1]
)lua";

const std::string remove = std::string(prelude) + R"lua(
existing(ARGV[1])
bump()  -- always published: the stream's last entry is where make() goes on from
redis.call('DEL', K, X, KEYS[4])
redis.call('PEXPIRE', W, 86400000)
return 1
)lua";

// A holder is an owner (host:pid:start) whose lease ends at `exp` (server time, ms);
// a holder found past its lease is dead: the lock is freed, owner_died set for the
// next acquirer, and dead_holders counted, as when a local holder is SIGKILLed.
const std::string lock = std::string(prelude) + R"lua(
local action, owner, tid, lease, pid, name = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local t = existing(name)
local sem = t == 'semaphore' or t == 'bounded_semaphore'
if not sem and t ~= 'lock' and t ~= 'rlock' and t ~= 'condition' then mismatch(name, t, 'a lock or semaphore') end
local reentrant = t == 'rlock' or t == 'condition'  -- a condition's lock is an rlock
local now = now_ms()
local changed = false
if not sem then
  local holder = redis.call('HGET', K, 'owner') or ''
  if holder ~= '' and tonumber(redis.call('HGET', K, 'exp') or '0') < now then
    redis.call('HSET', K, 'owner', '', 'tid', '', 'depth', 0, 'holder_pid', 0, 'died', 1, 'lapsed', holder)
    redis.call('HINCRBY', K, 'dead', 1)
    holder = ''
    changed = true
  end
  -- A holder whose lease lapsed (stopped longer than the lease) is told once, at its
  -- next call, and may not release what may now be another's.
  if action == 'release' and holder ~= owner and redis.call('HGET', K, 'lapsed') == owner then
    redis.call('HSET', K, 'lapsed', '')
    if changed then bump() end
    fail('invalid_argument', "this process's lease on '" .. name .. "' lapsed (it did not renew it for " ..
         lease .. ' ms); the lock was freed and may be held by another process')
  end
  if action == 'acquire' then
    if holder == '' then
      local died = redis.call('HGET', K, 'died') == '1'
      redis.call('HSET', K, 'owner', owner, 'tid', tid, 'depth', 1, 'exp', now + lease, 'holder_pid', pid, 'died', 0)
      if redis.call('HGET', K, 'lapsed') == owner then redis.call('HSET', K, 'lapsed', '') end
      redis.call('HINCRBY', K, 'acq', 1)
      redis.call('HINCRBY', K, 'fence', 1)
      bump()
      if died then return {1, 1} end
      return {1, 0}
    end
    if reentrant and holder == owner and redis.call('HGET', K, 'tid') == tid then
      redis.call('HINCRBY', K, 'depth', 1)
      redis.call('HSET', K, 'exp', now + lease)
      bump()
      return {1, 0}
    end
    if changed then bump() end
    return {0, 0}
  elseif action == 'release' then
    if changed then bump() end
    if holder == '' then fail('invalid_argument', "release of '" .. name .. "', which is not held") end
    if reentrant then
      if holder ~= owner or redis.call('HGET', K, 'tid') ~= tid then
        fail('invalid_argument', "rlock '" .. name .. "' is held by another thread or process")
      end
      if redis.call('HINCRBY', K, 'depth', -1) > 0 then
        bump()
        return {}
      end
    end
    redis.call('HSET', K, 'owner', '', 'tid', '', 'depth', 0, 'holder_pid', 0)
    bump()
    return {}
  end
  if changed then bump() end
  if holder == owner then
    redis.call('HSET', K, 'exp', now + lease)
    return 1
  end
  return 0
end
-- A semaphore: `value` permits left. With return_dead_permits (rdp), X holds each
-- owner's count (c:OWNER) and lease end (e:OWNER); a lapsed owner's permits return.
local rdp = redis.call('HGET', K, 'rdp') == '1'
if rdp then
  local h = redis.call('HGETALL', X)
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 2) == 'e:' and tonumber(h[i + 1]) < now then
      local who = string.sub(h[i], 3)
      redis.call('HINCRBY', K, 'value', tonumber(redis.call('HGET', X, 'c:' .. who) or '0'))
      redis.call('HDEL', X, h[i], 'c:' .. who)
      redis.call('HINCRBY', K, 'dead', 1)
      changed = true
    end
  end
end
if action == 'acquire' then
  if tonumber(redis.call('HGET', K, 'value')) > 0 then
    redis.call('HINCRBY', K, 'value', -1)
    redis.call('HINCRBY', K, 'acq', 1)
    if rdp then
      redis.call('HINCRBY', X, 'c:' .. owner, 1)
      redis.call('HSET', X, 'e:' .. owner, now + lease)
    end
    bump()
    return {1, 0}
  end
  if changed then bump() end
  return {0, 0}
elseif action == 'release' then
  if changed then bump() end
  if t == 'bounded_semaphore' and tonumber(redis.call('HGET', K, 'value')) >= tonumber(redis.call('HGET', K, 'bound')) then
    fail('invalid_argument', "bounded semaphore '" .. name .. "' released more times than acquired")
  end
  redis.call('HINCRBY', K, 'value', 1)
  if rdp and redis.call('HINCRBY', X, 'c:' .. owner, -1) <= 0 then redis.call('HDEL', X, 'c:' .. owner, 'e:' .. owner) end
  bump()
  return {}
end
if changed then bump() end
if rdp and redis.call('HEXISTS', X, 'c:' .. owner) == 1 then
  redis.call('HSET', X, 'e:' .. owner, now + lease)
  return 1
end
return 0
)lua";

// A loop whose owner's lease lapsed while active turns failed, whoever looks first.
const std::string loop = std::string(prelude) + R"lua(
local action, owner, pid, lease, arg, reason, name = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local t = existing(name)
if t ~= 'loop' then mismatch(name, t, 'loop') end
local now = now_ms()
local state = redis.call('HGET', K, 'state')
local function active() return state == 'starting' or state == 'running' or state == 'stopping' end
local holder = redis.call('HGET', K, 'owner') or ''
if active() and tonumber(redis.call('HGET', K, 'exp') or '0') < now then
  state = 'failed'
  redis.call('HSET', K, 'state', state, 'reason', 'owner process ' .. redis.call('HGET', K, 'pid') ..
             ' lost its lease (not renewed for ' .. redis.call('HGET', K, 'lease') .. ' ms)')
  bump()
end
local function require_owner()
  if holder ~= owner then
    fail('invalid_argument', 'process ' .. pid .. " does not own loop '" .. name .. "' (owner: " ..
         (redis.call('HGET', K, 'pid') or '0') .. ')')
  end
end
if action == 'mark' then
  if arg == 'starting' then
    if active() and holder ~= owner then
      fail('invalid_argument', "loop '" .. name .. "' is already run by live process " .. redis.call('HGET', K, 'pid'))
    end
    local ns = now_ns()
    redis.call('HSET', K, 'state', 'starting', 'owner', owner, 'pid', pid, 'iterations', 0, 'started_ns', ns,
               'heartbeat_ns', ns, 'reason', '', 'exp', now + lease, 'lease', lease)
  elseif arg == 'idle' then
    fail('invalid_argument', 'a loop cannot be marked idle')
  else
    require_owner()
    if arg == 'running' then
      if not active() then fail('invalid_argument', "loop '" .. name .. "' is " .. state .. '; mark it starting first') end
      if state == 'stopping' then arg = 'stopping' end
    end
    local why = ''
    if arg == 'failed' then why = reason end
    redis.call('HSET', K, 'state', arg, 'heartbeat_ns', now_ns(), 'reason', why, 'exp', now + lease)
  end
  bump()
elseif action == 'heartbeat' then
  require_owner()
  redis.call('HINCRBY', K, 'iterations', arg)
  redis.call('HSET', K, 'heartbeat_ns', now_ns(), 'exp', now + lease)
  bump()
elseif action == 'stop' then
  if state == 'starting' or state == 'running' then
    redis.call('HSET', K, 'state', 'stopping')
    bump()
  end
elseif action == 'renew' then
  if active() and holder == owner then
    redis.call('HSET', K, 'exp', now + lease)
    return 1
  end
  return 0
end
return redis.call('HGETALL', K)
)lua";

const std::string event = std::string(prelude) + R"lua(
local t = existing(ARGV[2])
if t ~= 'event' then mismatch(ARGV[2], t, 'event') end
redis.call('HSET', K, 'set', ARGV[1])
bump()
return 1
)lua";

// Reliable takes: `get` moves the head item into KEYS[4] (i:OWNER, with its lease
// end e:OWNER) and the taker acknowledges it (`ack`) once the answer reached it; an
// item whose taker's lease lapsed first goes back to the head of the queue.
const std::string queue = std::string(prelude) + R"lua(
local action, name, owner, lease, item = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local T = KEYS[4]
local t = existing(name)
if t ~= 'queue' then mismatch(name, t, 'queue') end
local now = now_ms()
local returned = false
local h = redis.call('HGETALL', T)
for i = 1, #h, 2 do
  if string.sub(h[i], 1, 2) == 'e:' and tonumber(h[i + 1]) < now then
    local who = string.sub(h[i], 3)
    local lost = redis.call('HGET', T, 'i:' .. who)
    if lost then
      redis.call('LPUSH', X, lost)
      redis.call('HINCRBY', K, 'returned', 1)
      returned = true
    end
    redis.call('HDEL', T, h[i], 'i:' .. who)
  end
end
if returned then bump() end  -- waiters see the item back
local function version() return tonumber(redis.call('HGET', K, 'ver')) end
if action == 'put' then
  local max = tonumber(redis.call('HGET', K, 'maxsize'))
  if max > 0 and redis.call('LLEN', X) >= max then return {0, version()} end
  redis.call('RPUSH', X, item)
  redis.call('HINCRBY', K, 'unfinished', 1)
  redis.call('HINCRBY', K, 'puts', 1)
  return {1, bump()}
elseif action == 'get' then
  local mine = redis.call('HGET', T, 'i:' .. owner)
  if mine then  -- our last take's answer never reached us: it is still ours
    redis.call('HSET', T, 'e:' .. owner, now + lease)
    return {1, mine, version()}
  end
  local head = redis.call('LPOP', X)
  if not head then return {0, '', version()} end
  redis.call('HSET', T, 'i:' .. owner, head, 'e:' .. owner, now + lease)
  redis.call('HINCRBY', K, 'gets', 1)
  return {1, head, bump()}
elseif action == 'ack' then  -- 0: the take lapsed first and the item went back
  return redis.call('HDEL', T, 'i:' .. owner, 'e:' .. owner) > 0 and 1 or 0
elseif action == 'done' then
  if tonumber(redis.call('HGET', K, 'unfinished')) <= 0 then
    fail('invalid_argument', "task_done() called more times than items were put in '" .. name .. "'")
  end
  local left = redis.call('HINCRBY', K, 'unfinished', -1)
  bump()
  return {left}
end
fail('invalid_argument', 'unknown queue action ' .. action)
)lua";

// Arrays and lists: X holds the items (their JSON text), K `of` their type and, for
// an array, nothing more (its size is fixed at create). Indexes count from the end
// when negative, as in Python.
const std::string items = std::string(prelude) + R"lua(
local action, name, index, item = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local t = existing(name)
if t ~= 'array' and t ~= 'list' then mismatch(name, t, 'array or list') end
if (action == 'append' or action == 'insert' or action == 'pop') and t ~= 'list' then mismatch(name, t, 'list') end
local size = redis.call('LLEN', X)
local function at(i, past_end_ok)
  if i < 0 then i = i + size end
  if past_end_ok then return math.max(0, math.min(i, size)) end
  if i < 0 or i >= size then fail('out_of_range', 'index ' .. ARGV[3] .. ' is out of range for ' .. t .. " '" .. name .. "' of " .. size .. ' items') end
  return i
end
if action == 'get' then
  return redis.call('LINDEX', X, at(index))
elseif action == 'set' then
  redis.call('LSET', X, at(index), item)
  return bump()
elseif action == 'replace' then
  local new = {}
  for i = 4, #ARGV do new[#new + 1] = ARGV[i] end
  if t == 'array' and #new ~= size then
    fail('invalid_argument', "array '" .. name .. "' has " .. size .. ' items, not ' .. #new)
  end
  redis.call('DEL', X)
  push_all('RPUSH', X, new)
  return bump()
elseif action == 'append' then
  local new = {}
  for i = 4, #ARGV do new[#new + 1] = ARGV[i] end
  push_all('RPUSH', X, new)
  bump()
  return size + #new
elseif action == 'insert' then
  local i = at(index, true)
  if i >= size then redis.call('RPUSH', X, item)
  elseif i == 0 then redis.call('LPUSH', X, item)
  else  -- before the item at i: mark it, insert before the mark, put it back
    local pivot = redis.call('LINDEX', X, i)
    redis.call('LSET', X, i, MARK)
    redis.call('LINSERT', X, 'BEFORE', MARK, item)
    redis.call('LSET', X, i + 1, pivot)
  end
  bump()
  return size + 1
elseif action == 'pop' then
  if size == 0 then fail('out_of_range', "pop from empty list '" .. name .. "'") end
  local i = at(index)
  local value
  if i == size - 1 then value = redis.call('RPOP', X)
  elseif i == 0 then value = redis.call('LPOP', X)
  else
    value = redis.call('LINDEX', X, i)
    redis.call('LSET', X, i, MARK)
    redis.call('LREM', X, 1, MARK)
  end
  bump()
  return value
end
fail('invalid_argument', 'unknown items action ' .. action)
)lua";

// A barrier: `parties`, `waiting` (arrived in this generation), `generation`,
// `broken`; X holds the waiting parties' lease ends (e:OWNER). A party whose lease
// lapsed while waiting breaks the barrier, as a local party that dies does.
const std::string barrier = std::string(prelude) + R"lua(
local action, owner, lease, generation, name = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local t = existing(name)
if t ~= 'barrier' then mismatch(name, t, 'barrier') end
local now = now_ms()
local broken = redis.call('HGET', K, 'broken') == '1'
if not broken then
  local h = redis.call('HGETALL', X)
  for i = 1, #h, 2 do
    if tonumber(h[i + 1]) < now then
      redis.call('HSET', K, 'broken', 1)
      redis.call('HINCRBY', K, 'dead', 1)
      redis.call('HDEL', X, h[i])
      broken = true
    end
  end
  if broken then bump() end
end
local current = tonumber(redis.call('HGET', K, 'generation'))
if action == 'arrive' then
  if broken then fail('broken_barrier', "barrier '" .. name .. "' is broken") end
  local index = redis.call('HINCRBY', K, 'waiting', 1) - 1
  redis.call('HINCRBY', K, 'acq', 1)
  if index + 1 >= tonumber(redis.call('HGET', K, 'parties')) then
    redis.call('HSET', K, 'waiting', 0, 'generation', current + 1)
    redis.call('DEL', X)
  else
    redis.call('HSET', X, 'e:' .. owner, now + lease)
  end
  bump()
  return {current, index}
elseif action == 'check' then
  if current > generation then return 1 end
  if broken then
    redis.call('HDEL', X, 'e:' .. owner)
    fail('broken_barrier', "barrier '" .. name .. "' is broken")
  end
  return 0
elseif action == 'renew' then
  if redis.call('HEXISTS', X, 'e:' .. owner) == 1 then
    redis.call('HSET', X, 'e:' .. owner, now + lease)
    return 1
  end
  return 0
elseif action == 'abort' then
  redis.call('HSET', K, 'broken', 1)
  bump()
  return 1
elseif action == 'reset' then
  if not broken and tonumber(redis.call('HGET', K, 'waiting')) > 0 then
    fail('invalid_argument', "barrier '" .. name .. "' has waiting parties and is not broken")
  end
  redis.call('HSET', K, 'broken', 0, 'waiting', 0)
  redis.call('DEL', X)
  bump()
  return 1
end
fail('invalid_argument', 'unknown barrier action ' .. action)
)lua";

// A condition over its own rlock (the lock script takes and gives it back): X is
// the waiters, oldest first ("OWNER/TID"); KEYS[4] holds each waiter's lease end
// (e:WAITER) and the notified ones (n:WAITER). A waiter whose lease lapsed is
// dropped, so a notification never goes to a dead process.
const std::string condition = std::string(prelude) + R"lua(
local action, owner, tid, lease, n, name = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local N = KEYS[4]
local t = existing(name)
if t ~= 'condition' then mismatch(name, t, 'condition') end
local now = now_ms()
local me = owner .. '/' .. tid
local function holds() return redis.call('HGET', K, 'owner') == owner and redis.call('HGET', K, 'tid') == tid end
if action == 'wait' then
  if not holds() then fail('invalid_argument', "condition '" .. name .. "': wait without holding its lock") end
  local depth = tonumber(redis.call('HGET', K, 'depth'))
  redis.call('HSET', K, 'owner', '', 'tid', '', 'depth', 0, 'holder_pid', 0)
  redis.call('RPUSH', X, me)
  redis.call('HSET', N, 'e:' .. me, now + lease)
  redis.call('HDEL', N, 'n:' .. me)
  bump()
  return depth
elseif action == 'check' or action == 'cancel' then
  -- notified, or dropped as dead (its lease lapsed): either way its wait is over
  local notified = redis.call('HDEL', N, 'n:' .. me) > 0 or
                   (action == 'check' and redis.call('HEXISTS', N, 'e:' .. me) == 0)
  if notified or action == 'cancel' then
    redis.call('LREM', X, 0, me)
    redis.call('HDEL', N, 'e:' .. me)
    if action == 'cancel' then bump() end
  end
  if notified then return 1 end
  return 0
elseif action == 'renew' then  -- every waiting thread of this owner
  local renewed = 0
  local h = redis.call('HGETALL', N)
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, #owner + 3) == 'e:' .. owner .. '/' then
      redis.call('HSET', N, h[i], now + lease)
      renewed = 1
    end
  end
  return renewed
elseif action == 'notify' then
  if not holds() then fail('invalid_argument', "condition '" .. name .. "': notify without holding its lock") end
  local woken = 0
  while woken < n do
    local who = redis.call('LPOP', X)
    if not who then break end
    if tonumber(redis.call('HGET', N, 'e:' .. who) or '0') >= now then
      redis.call('HSET', N, 'n:' .. who, 1)
      woken = woken + 1
    else
      redis.call('HDEL', N, 'e:' .. who)
      redis.call('HINCRBY', K, 'dead', 1)
    end
  end
  if woken > 0 then bump() end
  return woken
end
fail('invalid_argument', 'unknown condition action ' .. action)
)lua";

}  // namespace mpstate::detail::redis_scripts
