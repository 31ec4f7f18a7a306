-- create: ARGV type, name, the number of field ARGVs, the field/value pairs for the
-- hash, then the items (arrays, lists). Returns the version.
--#include base
--#include rest
if redis.call('EXISTS', K) == 1 then fail('already_exists', "variable '" .. ARGV[2] .. "' already exists") end
local count = tonumber(ARGV[3])
local fields, items = {}, {}
for i = 4, 3 + count do fields[#fields + 1] = ARGV[i] end
for i = 4 + count, #ARGV do items[#items + 1] = ARGV[i] end
local ver = make(ARGV[1], fields)
push_all('RPUSH', X, items)
return ver
