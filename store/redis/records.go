package redis

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Records key layout, under one hash tag per kind, R = "{prefix:rec:kind}",
// so that a record and the indexes that list it change in one script:
//
//	R:r:<id>  HASH  v = value, n = version; PEXPIRE for a ttl
//	R:ids     ZSET  every id at score 0, for lexicographic paging
//	R:exp     ZSET  id by expiry (ms) of records that have a ttl
//
// Expired records vanish by themselves; their index entries are removed
// lazily by List and, a few at a time, by every Put, so that a kind nobody
// lists (idempotency keys) does not grow its index forever.

// List bounds: a caller that passes no limit gets a page, and nobody can
// make one script run for long.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// putScript: KEYS = record, ids, exp; ARGV = id, value, expected version
// (-1: any), ttl ms (0: none), record key prefix. Returns the new version,
// or -1 on a lost compare-and-set. Versions are max(old+1, server time in
// µs), so a record deleted and created again never reuses a version that
// a stale writer might still hold.
var putScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local expected = tonumber(ARGV[3])
if expected >= 0 and cur ~= expected then return -1 end
local t = redis.call('TIME')
local nowus = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowms = math.floor(nowus / 1000)
local ver = math.max(cur + 1, nowus)
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'n', string.format('%.0f', ver))
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('ZADD', KEYS[3], string.format('%.0f', nowms + ttl), ARGV[1])
else
  redis.call('PERSIST', KEYS[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', nowms, 'LIMIT', 0, 16)) do
  if redis.call('EXISTS', ARGV[5] .. id) == 0 then redis.call('ZREM', KEYS[2], id) end
  redis.call('ZREM', KEYS[3], id)
end
return ver
`)

// deleteScript: KEYS = record, ids, exp; ARGV = id, expected version.
// Returns 1, or 0 on a lost compare-and-set.
var deleteScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'n')
local expected = tonumber(ARGV[2])
if cur and expected >= 0 and tonumber(cur) ~= expected then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`)

// listScript: KEYS = ids; ARGV = record key prefix, after, limit. Returns
// id, value, version triples, dropping index entries of expired records.
var listScript = redis.NewScript(`
local out, n, limit = {}, 0, tonumber(ARGV[3])
local start = '-'
if ARGV[2] ~= '' then start = '(' .. ARGV[2] end
while n < limit do
  local ids = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, limit - n)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local r = redis.call('HMGET', ARGV[1] .. id, 'v', 'n')
    if r[2] then
      table.insert(out, id); table.insert(out, r[1]); table.insert(out, r[2])
      n = n + 1
    else
      redis.call('ZREM', KEYS[1], id)
    end
    start = '(' .. id
  end
end
return out
`)

// kindKeys returns the record key prefix and the index keys of kind.
func (s *Store) kindKeys(kind string) (recordPrefix, ids, exp string) {
	base := "{" + s.prefix + ":rec:" + kind + "}"
	return base + ":r:", base + ":ids", base + ":exp"
}

func checkKindID(op, kind, id string) error {
	if kind == "" || id == "" {
		return nova.Errorf(nova.EINVALID, "%s: record kind and id are required (got %q/%q)", op, kind, id)
	}
	if strings.ContainsAny(kind, "{}") {
		return nova.Errorf(nova.EINVALID, "%s: record kind %q must not contain braces", op, kind)
	}
	return nil
}

// Get returns kind/id, or ENOTFOUND when it is missing or expired.
func (s *Store) Get(ctx context.Context, kind, id string) (store.Item, error) {
	if err := checkKindID("get record", kind, id); err != nil {
		return store.Item{}, err
	}
	rp, _, _ := s.kindKeys(kind)
	vals, err := s.client.HMGet(ctx, rp+id, "v", "n").Result()
	if err != nil {
		return store.Item{}, translate("get record", err)
	}
	value, _ := vals[0].(string)
	version, _ := vals[1].(string)
	if version == "" {
		return store.Item{}, store.ErrNotFound(kind, id)
	}
	n, err := strconv.ParseInt(version, 10, 64)
	if err != nil {
		return store.Item{}, nova.WrapError(nova.EINTERNAL, err, "get record %s %s: bad version", kind, id)
	}
	return store.Item{ID: id, Value: []byte(value), Version: n}, nil
}

// Put stores value if kind/id is at version (0: absent, AnyVersion: any).
func (s *Store) Put(ctx context.Context, kind, id string, value []byte, version int64, ttl time.Duration) (int64, error) {
	if err := checkKindID("put record", kind, id); err != nil {
		return 0, err
	}
	var ttlMS int64
	if ttl > 0 {
		ttlMS = ms(ttl)
	}
	rp, ids, exp := s.kindKeys(kind)
	v, err := putScript.Run(ctx, s.client, []string{rp + id, ids, exp}, id, value, version, ttlMS, rp).Int64()
	if err != nil {
		return 0, translate("put record", err)
	}
	if v < 0 {
		return 0, store.ErrConflict(kind, id)
	}
	return v, nil
}

// Delete removes kind/id if it is at version (AnyVersion: whatever it is).
func (s *Store) Delete(ctx context.Context, kind, id string, version int64) error {
	if err := checkKindID("delete record", kind, id); err != nil {
		return err
	}
	rp, ids, exp := s.kindKeys(kind)
	v, err := deleteScript.Run(ctx, s.client, []string{rp + id, ids, exp}, id, version).Int64()
	if err != nil {
		return translate("delete record", err)
	}
	if v != 1 {
		return store.ErrConflict(kind, id)
	}
	return nil
}

// List returns up to limit live records of kind with id > after, by id.
func (s *Store) List(ctx context.Context, kind, after string, limit int) ([]store.Item, error) {
	if strings.ContainsAny(kind, "{}") {
		return nil, nova.Errorf(nova.EINVALID, "list records: record kind %q must not contain braces", kind)
	}
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	rp, ids, _ := s.kindKeys(kind)
	vals, err := listScript.Run(ctx, s.client, []string{ids}, rp, after, limit).Slice()
	if err != nil {
		return nil, translate("list records", err)
	}
	items := make([]store.Item, 0, len(vals)/3)
	for i := 0; i+2 < len(vals); i += 3 {
		id, _ := vals[i].(string)
		value, _ := vals[i+1].(string)
		version, _ := vals[i+2].(string)
		n, err := strconv.ParseInt(version, 10, 64)
		if err != nil {
			return nil, nova.WrapError(nova.EINTERNAL, err, "list records %s: bad version of %s", kind, id)
		}
		items = append(items, store.Item{ID: id, Value: []byte(value), Version: n})
	}
	return items, nil
}
