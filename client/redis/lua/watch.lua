-- watch: ARGV seen version, milliseconds the caller will block, name, grace ms.
-- Returns the version; when it is SEEN, writes publish to the stream until the block
-- and the grace are over.
--
-- The watch is kept GRACE ms past the caller's block: the XREAD arrives a round trip
-- later, or as late as the client resends a command (a restart, a cluster's election).
--#include base
local h = redis.call('HMGET', K, 'ver', 'wu', 't')
if not h[1] then fail('not_found', "no variable '" .. ARGV[3] .. "'") end
if h[3] == 'counter' then  -- as the manager (core::has_versions): its adds move no version
  fail('type_mismatch', "counter '" .. ARGV[3] .. "' cannot be waited on: its writes move no version (read it instead)")
end
if tonumber(h[1]) == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
  local until_ms = now_ms() + tonumber(ARGV[2]) + tonumber(ARGV[4])
  if not h[2] or tonumber(h[2]) < until_ms then redis.call('HSET', K, 'wu', decimal(until_ms)) end
end
return h[1]
