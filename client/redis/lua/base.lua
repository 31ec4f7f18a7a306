-- base: what every script includes first, the hot value writes only
-- while a waiter watches. The build embeds each script with its includes expanded and
-- its whole-line comments dropped (cmake/embed_lua.cmake).
--
-- Versions: `ver` in the hash, and one stream entry "VER-1" per change, so
-- `XREAD BLOCK ... STREAMS P{name}:w SEEN-1` returns as soon as the version passes
-- SEEN, however late the reader comes. The stream is trimmed approximately
-- (MAXLEN ~ 1: at most one stream node, ~100 entries): an exact MAXLEN 1 cost the
-- server 7 µs a write, this 2.
--
-- The value writes (set, add, cas) are the hot path and publish a change only while
-- a waiter watches: `watch` (what `wait` runs before its XREAD) sets the hash's `wu`
-- to the server time until which someone may be blocked on the stream; a write made
-- before it is in the version `watch` returns, one made after it sees `wu` and adds
-- the entry. Every other script publishes each change (they are rarer, and their
-- waiters are the blocking proxies). Each `local function` costs the server time on
-- every call: the hot scripts define none unless a waiter watches (set.lua's
-- `if h[3] then`), and `base`, what they then need, is apart from `rest`.
local K, W, X = KEYS[1], KEYS[2], KEYS[3]
local function fail(code, message) error({err = 'MPSTATE ' .. code .. ' ' .. message}) end
local function decimal(n) return string.format('%d', n) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function last_version()
  local last = redis.call('XREVRANGE', W, '+', '-', 'COUNT', 1)
  if #last == 0 then return 0 end
  return tonumber(string.match(last[1][1], '^(%d+)'))
end
local function publish(ver)
  local added = redis.pcall('XADD', W, 'MAXLEN', '~', '1', decimal(ver) .. '-1', 'v', ver)
  if type(added) == 'table' and added.err then  -- the hash lost its count: go on from the stream's
    ver = last_version() + 1
    redis.call('HSET', K, 'ver', ver)
    redis.call('XADD', W, 'MAXLEN', '~', '1', decimal(ver) .. '-1', 'v', ver)
  end
  return ver
end
local function bump() return publish(redis.call('HINCRBY', K, 'ver', 1)) end
-- After a hot-path write set the hash's version to VER: published if WATCHED_UNTIL
-- (the hash's `wu`) is not past; a past one is dropped, so later writes skip the
-- clock too. Returns the version (publish may have moved it on).
local function announce(ver, watched_until)
  if now_ms() <= tonumber(watched_until) then return publish(ver) end
  redis.call('HDEL', K, 'wu')
  return ver
end
