-- set_or_create (all four keys): as set, and creates the variable when absent.
--#include base
--#include rest
local t = redis.call('HGET', K, 't')
if not t then return make(ARGV[1], {'v', ARGV[2]}) end
if t ~= ARGV[1] then return {'type', t} end
redis.call('HSET', K, 'v', ARGV[2])
return bump()
