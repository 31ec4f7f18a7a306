-- read: ARGV name. Returns {hash as a flat list, the extra key's contents, a
-- condition's notified waiters}.
--#include base
--#include rest
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
