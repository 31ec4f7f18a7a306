-- loop: ARGV action (get|mark|heartbeat|stop|renew), owner, pid, lease ms, state or
-- count, reason, name, the ownership's epoch ("" for none). Returns the hash as a
-- flat list (renew: 1 while owned); `starting` begins a new epoch (the hash's
-- `epoch`), and a mark or heartbeat made as an ended one fails ownership_lost.
--
-- A loop whose owner's lease lapsed while active turns failed, whoever looks first.
--#include base
--#include rest
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
