// SPDX-License-Identifier: MIT
// The Redis backend's scripts for values: create, read, set, add, cas, watch and
// delete (what they are made of: redis_script_parts.hpp).
#include "redis_scripts.hpp"

#include <string_view>

#include "redis_script_parts.hpp"

namespace mpstate::detail::redis_scripts {

namespace {
// The hot path: one HMGET, the write, and the version set; no function is defined
// (each costs the server time on every call) unless a waiter watches, when `base`
// comes in to announce the change.
std::string when_watched(std::string_view watched_until, std::string_view ver) {
  return "if " + std::string(watched_until) + " then\n" + std::string(base) + "\n" + std::string(ver) + " = announce(" +
         std::string(ver) + ", " + std::string(watched_until) + ")\nend\n";
}

// set's and cas's write, after their HMGET of t, ver, wu into h: the value VALUE (a
// Lua expression) and the next version in one HSET, announced if watched; the
// version in `ver`.
std::string store_value(std::string_view value) {
  return "local ver = (tonumber(h[2]) or 0) + 1\nredis.call('HSET', KEYS[1], 'ver', string.format('%d', ver), 'v', " +
         std::string(value) + ")\n" + when_watched("h[3]", "ver");
}
}  // namespace

// A fenced write's check, before its body: KEYS[5] is the fence's lock (its hash),
// KEYS[6] the lock's holders (a semaphore's); the last two ARGVs the lock's name and
// the epoch. The write goes on only while that lock is held with that epoch and its
// holder's lease has not lapsed: the check and the write are one script, so nothing
// comes between them.
const std::string fence_check = R"lua(
local fence_lock, fence_epoch = ARGV[#ARGV - 1], ARGV[#ARGV]
local function fence_lost(why)
  return redis.error_reply("MPSTATE ownership_lost the fence's lock '" .. fence_lock .. "' is not held with epoch " ..
                           fence_epoch .. ' (' .. why .. '): the write is refused')
end
local lt = redis.call('HGET', KEYS[5], 't')
if not lt then return fence_lost('it does not exist') end
local clock = redis.call('TIME')
local fence_now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if lt == 'lock' or lt == 'rlock' or lt == 'condition' then
  local f = redis.call('HMGET', KEYS[5], 'owner', 'exp', 'fence')
  if not f[1] or f[1] == '' then return fence_lost('it is free') end
  if tonumber(f[2] or '0') < fence_now then return fence_lost("its holder's lease lapsed") end
  if f[3] ~= fence_epoch then return fence_lost('it is held with epoch ' .. (f[3] or '0')) end
elseif lt == 'semaphore' or lt == 'bounded_semaphore' then
  local held = false
  local h = redis.call('HGETALL', KEYS[6])
  for i = 1, #h, 2 do
    if string.sub(h[i], 1, 2) == 'f:' and h[i + 1] == fence_epoch then
      held = tonumber(redis.call('HGET', KEYS[6], 'e:' .. string.sub(h[i], 3)) or '0') >= fence_now
    end
  end
  if not held then return fence_lost('no holding of its permits has that epoch') end
else
  return redis.error_reply("MPSTATE type_mismatch a fence comes from a lock, rlock, condition or owned semaphore; '" ..
                           fence_lock .. "' is " .. lt)
end
)lua";

const std::string create = with_prelude(R"lua(
if redis.call('EXISTS', K) == 1 then fail('already_exists', "variable '" .. ARGV[2] .. "' already exists") end
local count = tonumber(ARGV[3])
local fields, items = {}, {}
for i = 4, 3 + count do fields[#fields + 1] = ARGV[i] end
for i = 4 + count, #ARGV do items[#items + 1] = ARGV[i] end
local ver = make(ARGV[1], fields)
push_all('RPUSH', X, items)
return ver
)lua");

const std::string read = with_prelude(R"lua(
local t = existing(ARGV[1])
local extra = {}
if t == 'queue' or t == 'array' or t == 'list' or t == 'condition' then extra = redis.call('LRANGE', X, 0, -1)
elseif t == 'semaphore' or t == 'bounded_semaphore' or t == 'barrier' then extra = redis.call('HGETALL', X) end
local notified = 0  -- a condition's waiters notified and not yet gone
if t == 'condition' then
  for _, field in ipairs(redis.call('HKEYS', KEYS[4])) do
    if string.sub(field, 1, 2) == 'n:' then notified = notified + 1 end
  end
end
return {redis.call('HGETALL', K), extra, notified}
)lua");

const std::string set_or_create = with_prelude(R"lua(
local t = redis.call('HGET', K, 't')
if not t then return make(ARGV[1], {'v', ARGV[2]}) end
if t ~= ARGV[1] then return {'type', t} end
redis.call('HSET', K, 'v', ARGV[2])
return bump()
)lua");

const std::string set = R"lua(
local h = redis.call('HMGET', KEYS[1], 't', 'ver', 'wu')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[1] then return {'type', h[1]} end
)lua" + store_value("ARGV[2]") +
                        R"lua(
return ver
)lua";

// HINCRBY's integer arithmetic (and its overflow check); formatting a number in Lua
// would cost the server more than the second HINCRBY, of the version, does. A sum
// Lua's doubles cannot hold exactly (2^53 and past) is read back as text.
const std::string add_int = R"lua(
local h = redis.call('HMGET', KEYS[1], 't', 'wu')
if h[1] ~= 'int64' then
  if not h[1] then return redis.error_reply("MPSTATE not_found no variable '" .. ARGV[2] .. "'") end
  return {'type', h[1]}
end
local sum = redis.pcall('HINCRBY', KEYS[1], 'v', ARGV[1])
if type(sum) ~= 'number' then
  if string.find(sum.err, 'overflow', 1, true) then
    return redis.error_reply('MPSTATE out_of_range adding ' .. ARGV[1] .. " to '" .. ARGV[2] .. "' would overflow int64")
  end
  return redis.error_reply("MPSTATE internal '" .. ARGV[2] .. "' holds no int64 Redis can add to: " .. sum.err)
end
local ver = redis.call('HINCRBY', KEYS[1], 'ver', 1)
)lua" + when_watched("h[2]", "ver") +
                            R"lua(
if -9007199254740992 < sum and sum < 9007199254740992 then return sum end
return {'ok', redis.call('HGET', KEYS[1], 'v')}
)lua";

const std::string cas = R"lua(
local h = redis.call('HMGET', KEYS[1], 't', 'ver', 'wu', 'v')
if not h[1] then return redis.error_reply("MPSTATE not_found no variable '" .. ARGV[4] .. "'") end
if h[1] ~= ARGV[1] then return {'type', h[1]} end
if h[4] ~= ARGV[2] then return {0, h[4]} end
)lua" + store_value("ARGV[3]") +
                        R"lua(
return {1, ARGV[3]}
)lua";

const std::string fenced_set = fence_check + set;
const std::string fenced_set_or_create = fence_check + set_or_create;
const std::string fenced_add_int = fence_check + add_int;
const std::string fenced_cas = fence_check + cas;

// The watch is kept GRACE ms past the caller's block: the XREAD arrives a round trip
// later, or as late as the client resends a command (a restart, a cluster's election).
const std::string watch = std::string(base) + R"lua(
local h = redis.call('HMGET', K, 'ver', 'wu')
if not h[1] then fail('not_found', "no variable '" .. ARGV[3] .. "'") end
if tonumber(h[1]) == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
  local until_ms = now_ms() + tonumber(ARGV[2]) + tonumber(ARGV[4])
  if not h[2] or tonumber(h[2]) < until_ms then redis.call('HSET', K, 'wu', decimal(until_ms)) end
end
return h[1]
)lua";

const std::string remove = with_prelude(R"lua(
existing(ARGV[1])
bump()  -- always published: the stream's last entry is where make() goes on from
redis.call('DEL', K, X, KEYS[4])
redis.call('PEXPIRE', W, 86400000)
return 1
)lua");

}  // namespace mpstate::detail::redis_scripts
