// SPDX-License-Identifier: MIT
// What the Redis backend's scripts are made of (redis_scripts*.cpp): the Lua of
// `base` and `rest`, constants, so the scripts of every file may use them whatever
// order the files' globals are initialised in.
//
// Versions: `ver` in the hash, and one stream entry "VER-1" per change, so
// `XREAD BLOCK ... STREAMS P{name}:w SEEN-1` returns as soon as the version passes
// SEEN, however late the reader comes. The stream is trimmed approximately
// (MAXLEN ~ 1: at most one stream node, ~100 entries): an exact MAXLEN 1 cost the
// server 7 µs a write, this 2.
//
// The value writes (set, add, cas) are the hot path and publish a change only while
// a waiter watches: `watch` (what `wait` runs before its XREAD) sets the hash's `wu`
// to the server time until which someone may be blocked on the stream; a write made
// before it is in the version `watch` returns, one made after it sees `wu` and adds
// the entry. Every other script publishes each change (they are rarer, and their
// waiters are the blocking proxies). Each `local function` costs the server time on
// every call: the hot scripts define none unless a waiter watches (`when_watched`
// in redis_scripts.cpp), and `base`, what they then need, is apart from `rest`.
#pragma once

#include <string>
#include <string_view>

namespace mpstate::detail::redis_scripts {

inline constexpr std::string_view base = R"lua(
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
)lua";

inline constexpr std::string_view rest = R"lua(
local function now_ns()
  local t = redis.call('TIME')
  return t[1] .. string.format('%06d', tonumber(t[2])) .. '000'
end
local function existing(name)
  local t = redis.call('HGET', K, 't')
  if not t then fail('not_found', "no variable '" .. name .. "'") end
  return t
end
local function mismatch(name, t, wanted) fail('type_mismatch', "variable '" .. name .. "' is " .. t .. ', not ' .. wanted) end
-- RPUSH (or LPUSH) a Lua array in chunks: unpack() takes at most ~8000 values.
local function push_all(command, key, values, first)
  for i = first or 1, #values, 1000 do
    redis.call(command, key, unpack(values, i, math.min(i + 999, #values)))
  end
end
-- A list element no JSON item can equal (items are JSON text; this has a NUL byte).
local MARK = 'mpstate\0mark'
-- A new variable's version goes on from the wait stream's last entry (which a delete
-- always writes), and never from below the server's clock in microseconds: when Redis
-- lost its data (a restart without persistence) the stream went too, and versions
-- must not go backwards (101 -> 1) for a client that saw the old ones.
local function make(t, fields)
  local ver = math.max(last_version(), now_ms() * 1000)
  redis.call('PERSIST', W)
  redis.call('DEL', X)
  redis.call('HSET', K, 't', t, 'ver', ver)
  if #fields > 0 then redis.call('HSET', K, unpack(fields)) end
  return bump()
end
)lua";

// A script that starts with every helper: most of them (not the hot value writes).
inline std::string with_prelude(std::string_view body) {
  return std::string(base) + std::string(rest) + std::string(body);
}

}  // namespace mpstate::detail::redis_scripts
