package redis

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
)

// Audit key layout, under the hash tag A = "{prefix:audit}":
//
//	A:log   ZSET  JSON entry by seq
//	A:tail  HASH  seq, hash of the last entry
//	A:ids   HASH  entry id -> seq, so that appends are idempotent by id
//
// Redis Lua has no SHA-256, so an entry is sealed in Go after the tail it
// expects, and the script appends it only if that is still the tail.

// maxAuditPage bounds one ListAudit call.
const maxAuditPage = 1000

// maxAppendAttempts bounds how often one append may lose the race for
// the tail to appends from other replicas.
const maxAppendAttempts = 100

// auditTail is the last entry this process knows of.
type auditTail struct {
	seq  int64
	hash string
	ok   bool
}

// appendAuditScript: KEYS = tail, log, ids; ARGV = expected tail seq, new
// seq, entry JSON, new hash, entry id. Returns {1} on success, {2, entry}
// when the id is already in the log, or {0, seq, hash} with the actual tail
// so the caller can reseal without another round trip.
var appendAuditScript = redis.NewScript(`
local have = redis.call('HGET', KEYS[3], ARGV[5])
if have then
  local e = redis.call('ZRANGE', KEYS[2], have, have, 'BYSCORE')
  if e[1] then return {2, e[1]} end
end
local cur = redis.call('HMGET', KEYS[1], 'seq', 'hash')
local seq = tonumber(cur[1] or '0')
if seq ~= tonumber(ARGV[1]) then return {0, seq, cur[2] or ''} end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'hash', ARGV[4])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[2])
return {1}
`)

// AppendAudit seals e after the current tail and appends it, unless an
// entry with e's id is already in the log: then that entry is returned.
func (s *Store) AppendAudit(ctx context.Context, e nova.AuditEntry) (nova.AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.ID == "" {
		e.ID = nova.NewAuditID(e.Time)
	}
	// Appenders in this process take turns, so they race only with other
	// replicas; the cached tail saves a read in the common case.
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	keys := []string{s.audit + ":tail", s.audit + ":log", s.audit + ":ids"}
	for attempt := 0; attempt < maxAppendAttempts; attempt++ {
		var prev *nova.AuditEntry
		if s.auditTail.ok && s.auditTail.seq > 0 {
			prev = &nova.AuditEntry{Seq: s.auditTail.seq, Hash: s.auditTail.hash}
		}
		sealed := e.SealWith(prev, s.auditKey.Load())
		body, err := json.Marshal(sealed)
		if err != nil {
			return e, nova.WrapError(nova.EINTERNAL, err, "append audit: encode entry")
		}
		reply, err := appendAuditScript.Run(ctx, s.client, keys, sealed.Seq-1, sealed.Seq, body, sealed.Hash, sealed.ID).Slice()
		if err != nil {
			s.auditTail.ok = false // the append may have happened; reread
			return e, translate("append audit", err)
		}
		switch code, _ := reply[0].(int64); code {
		case 1:
			s.auditTail = auditTail{seq: sealed.Seq, hash: sealed.Hash, ok: true}
			return sealed, nil
		case 2:
			// Already recorded (a retried act): return the entry as stored.
			raw, _ := reply[1].(string)
			var stored nova.AuditEntry
			if err := json.Unmarshal([]byte(raw), &stored); err != nil {
				return e, nova.WrapError(nova.EINTERNAL, err, "append audit: decode stored entry")
			}
			return stored, nil
		}
		if len(reply) != 3 {
			return e, nova.Errorf(nova.EINTERNAL, "append audit: unexpected reply %v", reply)
		}
		seq, _ := reply[1].(int64)
		hash, _ := reply[2].(string)
		s.auditTail = auditTail{seq: seq, hash: hash, ok: true}
		if attempt > 0 {
			// Another replica keeps winning: back off a little, randomly.
			time.Sleep(time.Duration(rand.IntN(1000*attempt)) * time.Microsecond)
		}
		if err := ctx.Err(); err != nil {
			return e, translate("append audit", err)
		}
	}
	return e, nova.Errorf(nova.ECONFLICT, "append audit: too much contention for the audit log; try again")
}

// AuditHead returns the last entry's seq, hash and key id.
func (s *Store) AuditHead(ctx context.Context) (nova.AuditHead, error) {
	raw, err := s.client.ZRange(ctx, s.audit+":log", -1, -1).Result()
	if err != nil {
		return nova.AuditHead{}, translate("audit head", err)
	}
	if len(raw) == 0 {
		return nova.AuditHead{}, nil
	}
	var last nova.AuditEntry
	if err := json.Unmarshal([]byte(raw[0]), &last); err != nil {
		return nova.AuditHead{}, nova.WrapError(nova.EINTERNAL, err, "audit head: decode entry")
	}
	return last.Head(), nil
}

// SetAuditKey sets the key later appends are sealed with (nil: plain chain).
func (s *Store) SetAuditKey(key *nova.AuditKey) { s.auditKey.Store(key) }

// ListAudit returns up to limit entries with Seq > afterSeq, in order.
func (s *Store) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]nova.AuditEntry, error) {
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxAuditPage)
	raw, err := s.client.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: s.audit + ":log", ByScore: true,
		Start: "(" + strconv.FormatInt(afterSeq, 10), Stop: "+inf",
		Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, translate("list audit", err)
	}
	out := make([]nova.AuditEntry, 0, len(raw))
	for _, r := range raw {
		var e nova.AuditEntry
		if err := json.Unmarshal([]byte(r), &e); err != nil {
			return nil, nova.WrapError(nova.EINTERNAL, err, "list audit: decode entry")
		}
		out = append(out, e)
	}
	return out, nil
}
