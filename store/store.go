// Package store defines the contract Nova keeps its state behind: the
// durable inbox, versioned records, the audit chain and the rate limiter.
// Backends live in store/bolt (embedded, one process) and store/redis
// (several replicas); store/storetest is the conformance suite both run.
package store

import (
	"context"
	"time"

	"github.com/novasre/nova"
)

// Store is everything Nova persists.
type Store interface {
	Inbox
	Records
	AuditLog
	Limiter
	// Ping reports whether the backend is reachable (EUNAVAILABLE if not).
	Ping(ctx context.Context) error
	// Close releases the backend.
	Close() error
}

// Delivery is one inbox item: a webhook event waiting to be processed.
type Delivery struct {
	// Seq is assigned by Enqueue; it orders items within the inbox.
	Seq int64 `json:"seq"`
	// WebhookID and EventID are the deduplication keys (either may be empty).
	WebhookID string `json:"webhook_id"`
	EventID   string `json:"event_id"`
	// Key orders processing: items with the same key are claimed one at a
	// time, in Seq order.
	Key string `json:"key"`
	// Priority: lower is claimed first among ready keys (0 = high urgency).
	Priority   int       `json:"priority"`
	Payload    []byte    `json:"payload"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	// Attempts counts claims, including the current one.
	Attempts int `json:"attempts"`
	// Lease identifies the current claim; set by Claim.
	Lease string `json:"lease,omitempty"`
}

// Inbox is a durable, deduplicating queue with per-key ordering and leases.
//
// Semantics every backend must honour (the conformance suite checks them):
//   - Enqueue is atomic with deduplication: an item whose WebhookID or
//     EventID was seen within dedupTTL is not stored and Enqueue returns
//     false. Once Enqueue returns true, the item survives process crashes.
//   - Claim returns the head item of the ready key with the lowest
//     (priority, head seq), leased to the caller for lease; no other claim
//     can return an item of that key until the lease ends. It returns
//     nil, nil when nothing is ready.
//   - A lease ends by Ack (the item is removed and the key's next item
//     becomes ready), by Release (the item stays at the head and becomes
//     ready again after the given delay), or by expiry (the next Claim may
//     take the item again, with Attempts incremented).
//   - Extend, Ack and Release fail with ECONFLICT when the caller's lease
//     is no longer current (it expired and someone else claimed the item).
type Inbox interface {
	Enqueue(ctx context.Context, d Delivery, dedupTTL time.Duration) (bool, error)
	Claim(ctx context.Context, lease time.Duration) (*Delivery, error)
	Extend(ctx context.Context, d *Delivery, lease time.Duration) error
	Ack(ctx context.Context, d *Delivery) error
	Release(ctx context.Context, d *Delivery, delay time.Duration) error
	// InboxDepth is the number of items stored (ready, leased or delayed).
	InboxDepth(ctx context.Context) (int64, error)
}

// Record kinds used by Nova.
const (
	KindIncident = "incident"
	KindService  = "service"
	KindApproval = "approval"
	KindOnce     = "once"
	KindMeta     = "meta"
	// KindPostmortem holds an incident's postmortem draft, under the
	// incident's id.
	KindPostmortem = "postmortem"
)

// AnyVersion makes Put unconditional.
const AnyVersion int64 = -1

// Item is one stored record.
type Item struct {
	ID      string
	Value   []byte
	Version int64
}

// Records is a versioned key-value store with compare-and-set, grouped by kind.
//
//   - Get returns ENOTFOUND for a missing or expired record.
//   - Put stores value if the current version equals version (0 means "must
//     not exist", AnyVersion means unconditional) and returns the new version
//     (always > 0, increasing); otherwise it fails with ECONFLICT.
//     ttl 0 means no expiry.
//   - Delete removes the record if its version matches (AnyVersion:
//     unconditional); deleting a missing record is not an error.
//   - List returns up to limit records of kind with id > after, ordered by id.
type Records interface {
	Get(ctx context.Context, kind, id string) (Item, error)
	Put(ctx context.Context, kind, id string, value []byte, version int64, ttl time.Duration) (int64, error)
	Delete(ctx context.Context, kind, id string, version int64) error
	List(ctx context.Context, kind, after string, limit int) ([]Item, error)
}

// AuditLog is the append-only, hash-chained audit log.
//
//   - AppendAudit assigns Seq, PrevHash and Hash (with
//     nova.AuditEntry.SealWith and the key of SetAuditKey) atomically with
//     respect to other appenders, on every replica; the caller sets ID, Time
//     and the content fields. Appends are idempotent by ID: an entry whose ID
//     is already in the log is not appended again and the stored entry is
//     returned, so an act recorded again by a retry appears once.
//   - ListAudit returns up to limit entries with Seq > afterSeq, in order.
//   - AuditHead returns the last entry's seq, hash and key id (zero for an
//     empty log): the head Nova witnesses outside itself.
//   - SetAuditKey sets the key later appends are sealed with (nil: the
//     plain chain). The key stays in the process; only its id is stored.
type AuditLog interface {
	AppendAudit(ctx context.Context, e nova.AuditEntry) (nova.AuditEntry, error)
	ListAudit(ctx context.Context, afterSeq int64, limit int) ([]nova.AuditEntry, error)
	AuditHead(ctx context.Context) (nova.AuditHead, error)
	SetAuditKey(key *nova.AuditKey)
}

// Rate is a rate limit: Limit requests per Period, with bursts of up to Burst.
type Rate struct {
	Limit  int
	Period time.Duration
	Burst  int
}

// Limiter is a GCRA rate limiter shared by every user of the store.
//
// Take asks for one request on bucket key. It returns 0 when the request is
// allowed (and consumed), or how long to wait before asking again. reserve
// is how many requests of headroom a caller must leave in the burst for
// others: writes pass 0, reads pass a reserve so writes go first when the
// bucket is short.
type Limiter interface {
	Take(ctx context.Context, key string, rate Rate, reserve int) (time.Duration, error)
}
