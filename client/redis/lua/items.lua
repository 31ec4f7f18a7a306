-- items (arrays, lists): ARGV action (get|set|replace|append|insert|pop), name,
-- index, item(s). get/pop the item text; set/replace the version; append/insert the size.
--
-- Arrays and lists: X holds the items (their JSON text), K `of` their type and, for
-- an array, nothing more (its size is fixed at create). Indexes count from the end
-- when negative, as in Python.
--#include base
--#include rest
local action, name, index, item = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local t = existing(name)
if t ~= 'array' and t ~= 'list' then mismatch(name, t, 'array or list') end
if (action == 'append' or action == 'insert' or action == 'pop') and t ~= 'list' then mismatch(name, t, 'list') end
local size = redis.call('LLEN', X)
local function at(i, past_end_ok)
  if i < 0 then i = i + size end
  if past_end_ok then return math.max(0, math.min(i, size)) end
  if i < 0 or i >= size then fail('out_of_range', 'index ' .. ARGV[3] .. ' is out of range for ' .. t .. " '" .. name .. "' of " .. size .. ' items') end
  return i
end
if action == 'get' then
  return redis.call('LINDEX', X, at(index))
elseif action == 'set' then
  redis.call('LSET', X, at(index), item)
  return bump()
elseif action == 'replace' then
  local new = {}
  for i = 4, #ARGV do new[#new + 1] = ARGV[i] end
  if t == 'array' and #new ~= size then
    fail('invalid_argument', "array '" .. name .. "' has " .. size .. ' items, not ' .. #new)
  end
  redis.call('DEL', X)
  push_all('RPUSH', X, new)
  return bump()
elseif action == 'append' then
  local new = {}
  for i = 4, #ARGV do new[#new + 1] = ARGV[i] end
  push_all('RPUSH', X, new)
  bump()
  return size + #new
elseif action == 'insert' then
  local i = at(index, true)
  if i >= size then redis.call('RPUSH', X, item)
  elseif i == 0 then redis.call('LPUSH', X, item)
  else  -- before the item at i: mark it, insert before the mark, put it back
    local pivot = redis.call('LINDEX', X, i)
    redis.call('LSET', X, i, MARK)
    redis.call('LINSERT', X, 'BEFORE', MARK, item)
    redis.call('LSET', X, i + 1, pivot)
  end
  bump()
  return size + 1
elseif action == 'pop' then
  if size == 0 then fail('out_of_range', "pop from empty list '" .. name .. "'") end
  local i = at(index)
  local value
  if i == size - 1 then value = redis.call('RPOP', X)
  elseif i == 0 then value = redis.call('LPOP', X)
  else
    value = redis.call('LINDEX', X, i)
    redis.call('LSET', X, i, MARK)
    redis.call('LREM', X, 1, MARK)
  end
  bump()
  return value
end
fail('invalid_argument', 'unknown items action ' .. action)
