-- add_int: ARGV delta, name. An int64 or counter only: the new value (an integer below 2^53;
-- past it {"ok", its text}) or {"type", type}.
-- HINCRBY's integer arithmetic (and its overflow check); formatting a number in Lua
-- would cost the server more than the second HINCRBY, of the version, does. A sum
-- Lua's doubles cannot hold exactly (2^53 and past) is read back as text.
local h = redis.call('HMGET', KEYS[1], 't', 'wu')
if h[1] ~= 'int64' and h[1] ~= 'counter' then
  if not h[1] then return redis.error_reply("MPSTATE not_found no variable '" .. ARGV[2] .. "'") end
  return {'type', h[1]}
end
local sum = redis.pcall('HINCRBY', KEYS[1], 'v', ARGV[1])
if type(sum) ~= 'number' then
  if string.find(sum.err, 'overflow', 1, true) then
    return redis.error_reply('MPSTATE out_of_range adding ' .. ARGV[1] .. " to '" .. ARGV[2] .. "' would overflow int64")
  end
  return redis.error_reply("MPSTATE internal '" .. ARGV[2] .. "' holds no int64 Redis can add to: " .. sum.err)
end
-- A counter's adds move no version, as on a manager's segment (it cannot be waited on).
if h[1] ~= 'counter' then
  local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
  if h[2] then
--#include base
    ver = announce(ver, h[2])
  end
end
if -9007199254740992 < sum and sum < 9007199254740992 then return sum end
return {'ok', redis.call('HGET', KEYS[1], 'v')}
