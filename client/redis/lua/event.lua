-- event: ARGV 1|0, name.
--
-- `sets` counts the sets ever (a waiter woken after a set and a clear still returns True).
--#include base
--#include rest
local t = existing(ARGV[2])
if t ~= 'event' then mismatch(ARGV[2], t, 'event') end
if redis.call('HGET', K, 'set') == ARGV[1] then return 1 end
redis.call('HSET', K, 'set', ARGV[1])
if ARGV[1] == '1' then redis.call('HINCRBY', K, 'sets', 1) end
bump()
return 1
