// SPDX-License-Identifier: MIT
// The Redis backend's scripts for arrays, lists, barriers and conditions.
#include "redis_script_parts.hpp"
#include "redis_scripts.hpp"

namespace mpstate::detail::redis_scripts {

// Arrays and lists: X holds the items (their JSON text), K `of` their type and, for
// an array, nothing more (its size is fixed at create). Indexes count from the end
// when negative, as in Python.
const std::string items = with_prelude(R"lua(
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
)lua");

// A barrier: `parties`, `waiting` (arrived in this generation), `generation`,
// `broken`; X holds the waiting parties' lease ends (e:OWNER). A party whose lease
// lapsed while waiting breaks the barrier, as a local party that dies does.
const std::string barrier = with_prelude(R"lua(
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
)lua");

// A condition over its own rlock (the lock script takes and gives it back): X is
// the waiters, oldest first ("OWNER/TID"); KEYS[4] holds each waiter's lease end
// (e:WAITER) and the notified ones (n:WAITER). A waiter whose lease lapsed is
// dropped, so a notification never goes to a dead process.
const std::string condition = with_prelude(R"lua(
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
)lua");

}  // namespace mpstate::detail::redis_scripts
