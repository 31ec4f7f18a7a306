-- condition: ARGV action (wait|check|cancel|renew|notify), owner, tid, lease ms, n,
-- name. wait: the lock depth given up; check/cancel 1|0 (notified); notify: woken.
--
-- A condition over its own rlock (the lock script takes and gives it back): X is
-- the waiters, oldest first ("OWNER/TID"); KEYS[4] holds each waiter's lease end
-- (e:WAITER) and the notified ones (n:WAITER). A waiter whose lease lapsed is
-- dropped, so a notification never goes to a dead process.
--#include base
--#include rest
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
