-- queue: ARGV action (put|get|ack|done), name, taker, lease ms, item text.
-- put {1|0, version}; get {1|0, item, version}; ack 1 (0: the take had lapsed);
-- done {unfinished}.
--
-- Reliable takes: `get` moves the head item into KEYS[4] (i:OWNER, with its lease
-- end e:OWNER) and the taker acknowledges it (`ack`) once the answer reached it; an
-- item whose taker's lease lapsed first goes back to the head of the queue.
--#include base
--#include rest
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
