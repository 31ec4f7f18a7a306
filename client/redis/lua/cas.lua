-- cas: ARGV type, expected text, desired text, name. {1|0, value text} or {"type", t}.
-- The hot path, as set.lua.
local h = redis.call('HMGET', KEYS[1], 't', 'ver', 'wu', 'v')
if not h[1] then return redis.error_reply("MPSTATE not_found no variable '" .. ARGV[4] .. "'") end
if h[1] ~= ARGV[1] then return {'type', h[1]} end
if h[4] ~= ARGV[2] then return {0, h[4]} end
local ver = (tonumber(h[2]) or 0) + 1
redis.call('HSET', KEYS[1], 'ver', string.format('%d', ver), 'v', ARGV[3])
if h[3] then
--#include base
  ver = announce(ver, h[3])
end
return {1, ARGV[3]}
