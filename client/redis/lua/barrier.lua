-- barrier: ARGV action (arrive|check|renew|abort|reset), owner, lease ms,
-- generation, name. arrive {generation, index}; check 1|0 (broken_barrier).
--
-- A barrier: `parties`, `waiting` (arrived in this generation), `generation`,
-- `broken`; X holds the waiting parties' lease ends (e:OWNER). A party whose lease
-- lapsed while waiting breaks the barrier, as a local party that dies does.
--#include base
--#include rest
local action, owner, lease, generation, name = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local hold = ARGV[6] == '1'
local t = existing(name)
if t ~= 'barrier' then mismatch(name, t, 'barrier') end
local now = now_ms()
-- broken: '1' broken, '2' resetting (the parties waiting at a reset leave with
-- broken_barrier, the last one out makes it usable), '3' tripping (the last party
-- runs the action, then 'trip' lets everyone through), else usable.
local state = redis.call('HGET', K, 'broken')
local function leave(who)  -- a waiting party out; the last one out of a reset ends it
  redis.call('HDEL', X, 'e:' .. who)
  if state == '2' and redis.call('HLEN', X) == 0 then
    redis.call('HSET', K, 'broken', 0, 'waiting', 0)
    redis.call('DEL', X)
    state = '0'
  end
end
if state ~= '1' then
  local h = redis.call('HGETALL', X)
  local changed = false
  for i = 1, #h, 2 do
    if tonumber(h[i + 1]) < now then
      redis.call('HINCRBY', K, 'dead', 1)
      changed = true
      if state == '2' then
        leave(string.sub(h[i], 3))
      else
        redis.call('HSET', K, 'broken', 1)
        redis.call('HDEL', X, h[i])
        state = '1'
      end
    end
  end
  if changed then bump() end
end
local current = tonumber(redis.call('HGET', K, 'generation'))
if action == 'arrive' then
  if state == '2' or state == '3' then return {current, -1, 0} end  -- arrive again once through
  if state == '1' then fail('broken_barrier', "barrier '" .. name .. "' is broken") end
  local index = redis.call('HINCRBY', K, 'waiting', 1) - 1
  redis.call('HINCRBY', K, 'acq', 1)
  local trip = 0
  if index + 1 < tonumber(redis.call('HGET', K, 'parties')) then
    redis.call('HSET', X, 'e:' .. owner, now + lease)
  elseif hold then  -- the last party runs the action first; its lapse breaks the barrier
    redis.call('HSET', K, 'broken', 3)
    redis.call('HSET', X, 'e:' .. owner, now + lease)
    trip = 1
  else
    redis.call('HSET', K, 'waiting', 0, 'generation', current + 1)
    redis.call('DEL', X)
  end
  bump()
  return {current, index, trip}
elseif action == 'check' then
  if current > generation then return 1 end
  if state == '1' or state == '2' then
    leave(owner)
    bump()
    fail('broken_barrier', "barrier '" .. name .. "' broke (or was reset) while waiting")
  end
  return 0
elseif action == 'renew' then
  if redis.call('HEXISTS', X, 'e:' .. owner) == 1 then
    redis.call('HSET', X, 'e:' .. owner, now + lease)
    return 1
  end
  return 0
elseif action == 'trip' then
  if current ~= generation then fail('invalid_argument', "barrier '" .. name .. "': no trip of that generation is held") end
  if state ~= '3' then  -- aborted or reset during the action
    leave(owner)
    bump()
    fail('broken_barrier', "barrier '" .. name .. "' broke (or was reset) during its action")
  end
  redis.call('HSET', K, 'waiting', 0, 'generation', current + 1, 'broken', 0)
  redis.call('DEL', X)
  bump()
  return 1
elseif action == 'abort' then
  redis.call('HSET', K, 'broken', 1)
  bump()
  return 1
elseif action == 'reset' then
  if tonumber(redis.call('HGET', K, 'waiting')) > 0 and redis.call('HLEN', X) > 0 then
    redis.call('HSET', K, 'broken', 2)
  else
    redis.call('HSET', K, 'broken', 0, 'waiting', 0)
    redis.call('DEL', X)
  end
  bump()
  return 1
end
fail('invalid_argument', 'unknown barrier action ' .. action)
