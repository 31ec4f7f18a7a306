-- remove: ARGV name. Deletes the variable (its wait stream stays a day, so a
-- re-created variable carries its versions on and no waiter misses the delete).
--#include base
--#include rest
existing(ARGV[1])
bump()  -- always published: the stream's last entry is where make() goes on from
redis.call('DEL', K, X, KEYS[4])
redis.call('PEXPIRE', W, 86400000)
return 1
