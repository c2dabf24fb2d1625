package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// maxPriority bounds the priority used for ordering: the ready score packs
// priority*1e12 + seq into a float64, exact below 2^53.
const maxPriority = 1000

// inboxKey is the internal ordering key of a delivery. An empty Key means
// "no ordering constraint", so such an item gets a key of its own.
func inboxKey(key string, seq int64) string {
	if key == "" {
		return "u" + strconv.FormatInt(seq, 10)
	}
	return "k" + key
}

// ms converts a duration to whole milliseconds, at least 1, since Redis
// treats PX 0 as an error and a zero lease as none.
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// run executes an inbox script and translates its failure.
func (s *Store) run(ctx context.Context, op string, sc *redis.Script, args ...any) (any, error) {
	v, err := sc.Run(ctx, s.client, []string{s.inbox + ":seq"}, append([]any{s.inbox}, args...)...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, translate(op, err)
}

// Enqueue stores d unless its WebhookID or EventID was seen within dedupTTL.
func (s *Store) Enqueue(ctx context.Context, d store.Delivery, dedupTTL time.Duration) (bool, error) {
	if (d.WebhookID != "" || d.EventID != "") && dedupTTL <= 0 {
		return false, nova.Errorf(nova.EINVALID, "enqueue: a deduplication window (dedupTTL > 0) is required with a webhook or event id")
	}
	if d.EnqueuedAt.IsZero() {
		d.EnqueuedAt = time.Now()
	}
	d.EnqueuedAt, d.Seq, d.Attempts, d.Lease = d.EnqueuedAt.UTC(), 0, 0, ""
	body, err := json.Marshal(d)
	if err != nil {
		return false, nova.WrapError(nova.EINTERNAL, err, "enqueue: encode delivery")
	}
	prio := min(max(d.Priority, -maxPriority), maxPriority)
	v, err := s.run(ctx, "enqueue", enqueueScript, d.WebhookID, d.EventID, ms(dedupTTL), d.Key, prio, body)
	if err != nil {
		return false, err
	}
	seq, _ := v.(int64)
	return seq > 0, nil
}

// Claim leases the head item of the best ready key, or returns nil, nil.
func (s *Store) Claim(ctx context.Context, lease time.Duration) (*store.Delivery, error) {
	if lease <= 0 {
		return nil, nova.Errorf(nova.EINVALID, "claim: the lease must be positive")
	}
	token := newToken()
	v, err := s.run(ctx, "claim", claimScript, ms(lease), token)
	if err != nil || v == nil {
		return nil, err
	}
	reply, ok := v.([]any)
	if !ok || len(reply) != 3 {
		return nil, nova.Errorf(nova.EINTERNAL, "claim: unexpected reply %T", v)
	}
	head, _ := reply[0].(string)
	body, _ := reply[1].(string)
	attempts, _ := reply[2].(int64)
	var d store.Delivery
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		return nil, nova.WrapError(nova.EINTERNAL, err, "claim: decode inbox item %s", head)
	}
	if d.Seq, err = strconv.ParseInt(head, 10, 64); err != nil {
		return nil, nova.WrapError(nova.EINTERNAL, err, "claim: bad inbox seq")
	}
	d.Attempts, d.Lease = int(attempts), token
	return &d, nil
}

// leaseOp runs a script that requires d's lease to be current.
func (s *Store) leaseOp(ctx context.Context, op string, sc *redis.Script, d *store.Delivery, extra ...any) error {
	args := append([]any{inboxKey(d.Key, d.Seq), strconv.FormatInt(d.Seq, 10), d.Lease}, extra...)
	v, err := s.run(ctx, op, sc, args...)
	if err != nil {
		return err
	}
	if n, _ := v.(int64); n != 1 {
		return nova.Errorf(nova.ECONFLICT,
			"inbox item %d (key %q): the lease is no longer current; another worker took it over", d.Seq, d.Key)
	}
	return nil
}

// Ack removes d and makes the next item of its key ready.
func (s *Store) Ack(ctx context.Context, d *store.Delivery) error {
	return s.leaseOp(ctx, "ack", ackScript, d)
}

// Extend renews d's lease for lease from now.
func (s *Store) Extend(ctx context.Context, d *store.Delivery, lease time.Duration) error {
	if lease <= 0 {
		return nova.Errorf(nova.EINVALID, "extend lease: the lease must be positive")
	}
	return s.leaseOp(ctx, "extend lease", extendScript, d, ms(lease))
}

// Release ends d's lease, keeping it at the head of its key, ready again
// after delay.
func (s *Store) Release(ctx context.Context, d *store.Delivery, delay time.Duration) error {
	var delayMS int64
	if delay > 0 {
		delayMS = ms(delay)
	}
	return s.leaseOp(ctx, "release", releaseScript, d, delayMS)
}

// InboxDepth is the number of items stored.
func (s *Store) InboxDepth(ctx context.Context) (int64, error) {
	n, err := s.client.Get(ctx, s.inbox+":depth").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, translate("inbox depth", err)
}

// newToken returns a random lease token.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// String describes the store for logs, without credentials.
func (s *Store) String() string { return fmt.Sprintf("redis store (prefix %q)", s.prefix) }
