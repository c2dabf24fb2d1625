package redis

import "github.com/redis/go-redis/v9"

// Inbox key layout, all under the hash tag B = "{prefix:inbox}" so every
// script touches one Cluster slot:
//
//	B:seq           STRING  last assigned seq
//	B:depth         STRING  number of stored items
//	B:i:<seq>       HASH    b = JSON delivery, p = priority, a = attempts
//	B:q:<ikey>      LIST    seqs of one key, head first
//	B:lease         HASH    ikey -> lease token of its head
//	B:ready         ZSET    ikey by priority*1e12 + head seq
//	B:leased        ZSET    ikey by lease deadline (ms, server time)
//	B:delayed       ZSET    ikey by end of release delay (ms)
//	B:dw:<id>, B:de:<id>  STRING  webhook / event ids seen, with PX ttl
//
// Scripts derive key names from B (ARGV[1]) because item keys depend on
// data; KEYS[1] is B:seq, which routes the call to the inbox slot.
// Redis Lua formats numbers with %.14g, so scores and times pass through
// string.format('%.0f') to keep every digit.
const inboxPrelude = `
local B = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function num(x) return string.format('%.0f', x) end
local function makeReady(ikey)
  local head = redis.call('LINDEX', B .. ':q:' .. ikey, 0)
  if head then
    local p = tonumber(redis.call('HGET', B .. ':i:' .. head, 'p'))
    redis.call('ZADD', B .. ':ready', num(p * 1e12 + tonumber(head)), ikey)
  end
end
local function holds(ikey, seq, token)
  return token ~= '' and redis.call('HGET', B .. ':lease', ikey) == token
    and redis.call('LINDEX', B .. ':q:' .. ikey, 0) == seq
end
`

// enqueueScript: ARGV = B, webhook id, event id, dedup ttl ms, key,
// priority, body. Returns the new seq, or 0 for a duplicate.
var enqueueScript = redis.NewScript(inboxPrelude + `
local seen = {}
if ARGV[2] ~= '' then table.insert(seen, B .. ':dw:' .. ARGV[2]) end
if ARGV[3] ~= '' then table.insert(seen, B .. ':de:' .. ARGV[3]) end
for _, k in ipairs(seen) do
  if redis.call('EXISTS', k) == 1 then return 0 end
end
for _, k in ipairs(seen) do redis.call('SET', k, '1', 'PX', ARGV[4]) end
local seq = redis.call('INCR', B .. ':seq')
local ikey = 'k' .. ARGV[5]
if ARGV[5] == '' then ikey = 'u' .. seq end
redis.call('HSET', B .. ':i:' .. seq, 'b', ARGV[7], 'p', ARGV[6], 'a', 0)
if redis.call('RPUSH', B .. ':q:' .. ikey, seq) == 1 then makeReady(ikey) end
redis.call('INCR', B .. ':depth')
return seq
`)

// claimScript: ARGV = B, lease ms, token. Promotes due delayed keys and
// expired leases (keeping the old token, so that a late holder nobody
// replaced may still finish), then leases the head of the best ready key.
// Returns {seq, body, attempts} or nil.
var claimScript = redis.NewScript(inboxPrelude + `
for _, z in ipairs({B .. ':leased', B .. ':delayed'}) do
  local due = redis.call('ZRANGEBYSCORE', z, '-inf', now, 'LIMIT', 0, 1000)
  for _, ikey in ipairs(due) do
    redis.call('ZREM', z, ikey)
    makeReady(ikey)
  end
end
while true do
  local best = redis.call('ZRANGE', B .. ':ready', 0, 0)
  if #best == 0 then return false end
  local ikey = best[1]
  redis.call('ZREM', B .. ':ready', ikey)
  -- A ready key always has a head; skipping one that has none keeps a
  -- damaged entry (say, keys deleted by hand) from blocking the inbox.
  local head = redis.call('LINDEX', B .. ':q:' .. ikey, 0)
  if head then
    local item = B .. ':i:' .. head
    local attempts = redis.call('HINCRBY', item, 'a', 1)
    redis.call('HSET', B .. ':lease', ikey, ARGV[3])
    redis.call('ZADD', B .. ':leased', num(now + tonumber(ARGV[2])), ikey)
    return {head, redis.call('HGET', item, 'b') or '', attempts}
  end
end
`)

// ackScript: ARGV = B, ikey, seq, token. Returns 1, or 0 if the lease is
// not current.
var ackScript = redis.NewScript(inboxPrelude + `
local ikey, seq = ARGV[2], ARGV[3]
if not holds(ikey, seq, ARGV[4]) then return 0 end
redis.call('LPOP', B .. ':q:' .. ikey)
redis.call('DEL', B .. ':i:' .. seq)
redis.call('HDEL', B .. ':lease', ikey)
redis.call('ZREM', B .. ':leased', ikey)
redis.call('ZREM', B .. ':ready', ikey)
redis.call('DECR', B .. ':depth')
makeReady(ikey)
return 1
`)

// extendScript: ARGV = B, ikey, seq, token, lease ms.
var extendScript = redis.NewScript(inboxPrelude + `
local ikey = ARGV[2]
if not holds(ikey, ARGV[3], ARGV[4]) then return 0 end
redis.call('ZREM', B .. ':ready', ikey)
redis.call('ZADD', B .. ':leased', num(now + tonumber(ARGV[5])), ikey)
return 1
`)

// releaseScript: ARGV = B, ikey, seq, token, delay ms (0: ready now).
var releaseScript = redis.NewScript(inboxPrelude + `
local ikey = ARGV[2]
if not holds(ikey, ARGV[3], ARGV[4]) then return 0 end
redis.call('HDEL', B .. ':lease', ikey)
redis.call('ZREM', B .. ':leased', ikey)
redis.call('ZREM', B .. ':ready', ikey)
local delay = tonumber(ARGV[5])
if delay > 0 then
  redis.call('ZADD', B .. ':delayed', num(now + delay), ikey)
else
  makeReady(ikey)
end
return 1
`)
