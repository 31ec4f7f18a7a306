-- A fenced write's check, before its body: KEYS[5] is the fence's lock (its hash),
-- KEYS[6] the lock's holders (a semaphore's); the last two ARGVs the lock's name and
-- the epoch. The write goes on only while that lock is held with that epoch and its
-- holder's lease has not lapsed: the check and the write are one script, so nothing
-- comes between them.
--
-- Fenced writes (set, add, cas with a fence): the same scripts after a check of the
-- fence's lock, so the check and the write are one atomic step. Six keys: the
-- variable's four, then the lock's hash and its holders; two more ARGVs at the end:
-- the lock's name and the epoch. ownership_lost when the lock is not held with that
-- epoch (released, taken by another, its holder's lease lapsed). Every key must be
-- on one Redis Cluster slot.
local fence_lock, fence_epoch = ARGV[#ARGV - 1], ARGV[#ARGV]
local function fence_lost(why)
  return redis.error_reply("MPSTATE ownership_lost the fence's lock '" .. fence_lock .. "' is not held with epoch " ..
                           fence_epoch .. ' (' .. why .. '): the write is refused')
end
local lt = redis.call('HGET', KEYS[5], 't')
if not lt then return fence_lost('it does not exist') end
local clock = redis.call('TIME')
local fence_now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if lt == 'lock' or lt == 'rlock' or lt == 'condition' then
  local f = redis.call('HMGET', KEYS[5], 'owner', 'exp', 'fence')
  if not f[1] or f[1] == '' then return fence_lost('it is free') end
  if tonumber(f[2] or '0') < fence_now then return fence_lost("its holder's lease lapsed") end
  if f[3] ~= fence_epoch then return fence_lost('it is held with epoch ' .. (f[3] or '0')) end
elseif lt == 'semaphore' or lt == 'bounded_semaphore' then
  local held = false
  local h = redis.call('HGETALL', KEYS[6])
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 2) == 'f:' and h[i + 1] == fence_epoch then
      held = tonumber(redis.call('HGET', KEYS[6], 'e:' .. string.sub(h[i], 3)) or '0') >= fence_now
    end
  end
  if not held then return fence_lost('no holding of its permits has that epoch') end
else
  return redis.error_reply("MPSTATE type_mismatch a fence comes from a lock, rlock, condition or owned semaphore; '" ..
                           fence_lock .. "' is " .. lt)
end
