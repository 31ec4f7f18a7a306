-- lock: ARGV action (acquire|release|renew), owner, tid, lease ms, holder pid, name,
-- and for release and renew the holding's epoch ("" for none); for a lock, rlock,
-- semaphore or bounded_semaphore. acquire returns {1, owner died 1|0, epoch}, or
-- {0, 0, 0, version} when it is held (the version a waiter sleeps on: no read first);
-- release {kept}; renew 1 while held (with that epoch). A release made as an epoch
-- that is no longer the holding's fails ownership_lost.
--
-- A holder is an owner (host:pid:start) whose lease ends at `exp` (server time, ms);
-- a holder found past its lease is dead: the lock is freed, owner_died set for the
-- next acquirer, and dead_holders counted, as when a local holder is SIGKILLed.
--#include base
--#include rest
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
    return {0, 0, 0, tonumber(redis.call('HGET', K, 'ver'))}
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
  return {0, 0, 0, tonumber(redis.call('HGET', K, 'ver'))}
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
