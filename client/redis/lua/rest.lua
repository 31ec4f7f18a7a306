-- The helpers every script but the hot value writes starts with (after base.lua).
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
