-- The value writes (set, add_int, cas) and watch take two keys only: KEYS[1] and
-- KEYS[2].
-- set: ARGV type (the one the client encoded for), text, name. Returns the version,
-- {"type", the variable's type} when it has another, or {"missing"}.
-- The hot path: one HMGET, the write, and the version set; no function is defined
-- (each costs the server time on every call) unless a waiter watches, when `base`
-- comes in to announce the change.
local h = redis.call('HMGET', KEYS[1], 't', 'ver', 'wu')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[1] then return {'type', h[1]} end
local ver = (tonumber(h[2]) or 0) + 1
redis.call('HSET', KEYS[1], 'ver', string.format('%d', ver), 'v', ARGV[2])
if h[3] then
--#include base
  ver = announce(ver, h[3])
end
return ver
