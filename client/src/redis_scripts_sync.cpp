// SPDX-License-Identifier: MIT
// The Redis backend's scripts for locks, semaphores, loops, events and queues.
#include "redis_script_parts.hpp"
#include "redis_scripts.hpp"

namespace mpstate::detail::redis_scripts {

// A holder is an owner (host:pid:start) whose lease ends at `exp` (server time, ms);
// a holder found past its lease is dead: the lock is freed, owner_died set for the
// next acquirer, and dead_holders counted, as when a local holder is SIGKILLed.
const std::string lock = with_prelude(R"lua(
local action, owner, tid, lease, pid, name, epoch = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7] or ''
local t = existing(name)
local sem = t == 'semaphore' or t == 'bounded_semaphore'
if not sem and t ~= 'lock' and t ~= 'rlock' and t ~= 'condition' then mismatch(name, t, 'a lock or semaphore') end
local reentrant = t == 'rlock' or t == 'condition'  -- a condition's lock is an rlock
local now = now_ms()
local changed = false
-- A fresh holding's epoch: one past the last, and never below the server's clock in
-- microseconds, so epochs do not go backwards when Redis lost its data (a restart
-- without persistence) and the counter with it.
local function next_epoch()
  local e = math.max((tonumber(redis.call('HGET', K, 'fence')) or 0) + 1, now * 1000)
  redis.call('HSET', K, 'fence', decimal(e))
  return e
end
local function lost(now_what)
  if changed then bump() end
  fail('ownership_lost', t .. " '" .. name .. "': the holding with epoch " .. epoch .. ' has ended (' .. now_what ..
       '); this process lost it: its lease lapsed (not renewed for ' .. lease .. ' ms), or another took it over')
end
if not sem then
  local holder = redis.call('HGET', K, 'owner') or ''
  if holder ~= '' and tonumber(redis.call('HGET', K, 'exp') or '0') < now then
    redis.call('HSET', K, 'owner', '', 'tid', '', 'depth', 0, 'holder_pid', 0, 'died', 1, 'lapsed', holder)
    redis.call('HINCRBY', K, 'dead', 1)
    holder = ''
    changed = true
  end
  -- An owner's release or renewal carries its epoch: only the current holding's goes.
  if epoch ~= '' and (action == 'release' or action == 'renew') and
     (holder ~= owner or redis.call('HGET', K, 'fence') ~= epoch) then
    if action == 'renew' then
      if changed then bump() end
      return 0
    end
    if holder == '' then lost('it is free now') end
    lost('it is held by process ' .. redis.call('HGET', K, 'holder_pid') .. ' with epoch ' .. redis.call('HGET', K, 'fence'))
  end
  -- Without an epoch: a holder whose lease lapsed is told once, and may not release
  -- what may now be another's.
  if action == 'release' and holder ~= owner and redis.call('HGET', K, 'lapsed') == owner then
    redis.call('HSET', K, 'lapsed', '')
    changed = true
    lost('freed when its lease lapsed')
  end
  if action == 'acquire' then
    if holder == '' then
      local died = redis.call('HGET', K, 'died') == '1'
      redis.call('HSET', K, 'owner', owner, 'tid', tid, 'depth', 1, 'exp', now + lease, 'holder_pid', pid, 'died', 0)
      if redis.call('HGET', K, 'lapsed') == owner then redis.call('HSET', K, 'lapsed', '') end
      redis.call('HINCRBY', K, 'acq', 1)
      local e = next_epoch()
      bump()
      if died then return {1, 1, e} end
      return {1, 0, e}
    end
    if reentrant and holder == owner and redis.call('HGET', K, 'tid') == tid then
      redis.call('HINCRBY', K, 'depth', 1)
      redis.call('HSET', K, 'exp', now + lease)
      bump()
      return {1, 0, tonumber(redis.call('HGET', K, 'fence'))}
    end
    if changed then bump() end
    return {0, 0, 0}
  elseif action == 'release' then
    if changed then bump() end
    if holder == '' then fail('invalid_argument', "release of '" .. name .. "', which is not held") end
    if reentrant then
      if holder ~= owner or redis.call('HGET', K, 'tid') ~= tid then
        fail('invalid_argument', "rlock '" .. name .. "' is held by another thread or process")
      end
      local depth = redis.call('HINCRBY', K, 'depth', -1)
      if depth > 0 then
        bump()
        return {depth}
      end
    end
    redis.call('HSET', K, 'owner', '', 'tid', '', 'depth', 0, 'holder_pid', 0)
    bump()
    return {0}
  end
  if changed then bump() end
  if holder == owner then
    redis.call('HSET', K, 'exp', now + lease)
    return 1
  end
  return 0
end
-- A semaphore: `value` permits left. With return_dead_permits (rdp), X holds each
-- owner's count (c:OWNER), lease end (e:OWNER) and holding's epoch (f:OWNER); a
-- lapsed owner's permits return.
local rdp = redis.call('HGET', K, 'rdp') == '1'
if rdp then
  local h = redis.call('HGETALL', X)
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 2) == 'e:' and tonumber(h[i + 1]) < now then
      local who = string.sub(h[i], 3)
      redis.call('HINCRBY', K, 'value', tonumber(redis.call('HGET', X, 'c:' .. who) or '0'))
      redis.call('HDEL', X, h[i], 'c:' .. who, 'f:' .. who)
      redis.call('HINCRBY', K, 'dead', 1)
      changed = true
    end
  end
  if epoch ~= '' and (action == 'release' or action == 'renew') and redis.call('HGET', X, 'f:' .. owner) ~= epoch then
    if action == 'renew' then
      if changed then bump() end
      return 0
    end
    lost('this process holds no permits of it under that epoch now')
  end
end
if action == 'acquire' then
  if tonumber(redis.call('HGET', K, 'value')) > 0 then
    redis.call('HINCRBY', K, 'value', -1)
    redis.call('HINCRBY', K, 'acq', 1)
    local e = 0
    if rdp then
      if redis.call('HINCRBY', X, 'c:' .. owner, 1) == 1 then
        redis.call('HSET', X, 'f:' .. owner, decimal(next_epoch()))
      end
      redis.call('HSET', X, 'e:' .. owner, now + lease)
      e = tonumber(redis.call('HGET', X, 'f:' .. owner))
    end
    bump()
    return {1, 0, e}
  end
  if changed then bump() end
  return {0, 0, 0}
elseif action == 'release' then
  if changed then bump() end
  if t == 'bounded_semaphore' and tonumber(redis.call('HGET', K, 'value')) >= tonumber(redis.call('HGET', K, 'bound')) then
    fail('invalid_argument', "bounded semaphore '" .. name .. "' released more times than acquired")
  end
  redis.call('HINCRBY', K, 'value', 1)
  local kept = 0
  if rdp then
    kept = redis.call('HINCRBY', X, 'c:' .. owner, -1)
    if kept <= 0 then
      redis.call('HDEL', X, 'c:' .. owner, 'e:' .. owner, 'f:' .. owner)
      kept = 0
    end
  end
  bump()
  return {kept}
end
if changed then bump() end
if rdp and redis.call('HEXISTS', X, 'c:' .. owner) == 1 then
  redis.call('HSET', X, 'e:' .. owner, now + lease)
  return 1
end
return 0
)lua");

// A loop whose owner's lease lapsed while active turns failed, whoever looks first.
const std::string loop = with_prelude(R"lua(
local action, owner, pid, lease, arg, reason, name, epoch = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7], ARGV[8] or ''

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
  if epoch ~= '' then  -- made as an ownership: it must still be the loop's, and the loop active
    if redis.call('HGET', K, 'epoch') ~= epoch or holder ~= owner or not active() then
      local why = redis.call('HGET', K, 'reason') or ''
      if why ~= '' then why = ' (' .. why .. ')' end
      fail('ownership_lost', "loop '" .. name .. "': the ownership with epoch " .. epoch .. ' has ended; the loop is ' ..
           state .. why)
    end
    return
  end
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
    local e = math.max((tonumber(redis.call('HGET', K, 'epoch')) or 0) + 1, now * 1000)
    redis.call('HSET', K, 'state', 'starting', 'owner', owner, 'pid', pid, 'iterations', 0, 'started_ns', ns,
               'heartbeat_ns', ns, 'reason', '', 'exp', now + lease, 'lease', lease, 'epoch', decimal(e))
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
  if active() and holder == owner and (epoch == '' or redis.call('HGET', K, 'epoch') == epoch) then
    redis.call('HSET', K, 'exp', now + lease)
    return 1
  end
  return 0
end
return redis.call('HGETALL', K)
)lua");

// `sets` counts the sets ever (a waiter woken after a set and a clear still returns True).
const std::string event = with_prelude(R"lua(
local t = existing(ARGV[2])
if t ~= 'event' then mismatch(ARGV[2], t, 'event') end
if redis.call('HGET', K, 'set') == ARGV[1] then return 1 end
redis.call('HSET', K, 'set', ARGV[1])
if ARGV[1] == '1' then redis.call('HINCRBY', K, 'sets', 1) end
bump()
return 1
)lua");

// Reliable takes: `get` moves the head item into KEYS[4] (i:OWNER, with its lease
// end e:OWNER) and the taker acknowledges it (`ack`) once the answer reached it; an
// item whose taker's lease lapsed first goes back to the head of the queue.
const std::string queue = with_prelude(R"lua(
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
)lua");

}  // namespace mpstate::detail::redis_scripts
