package bolt

import (
	"bytes"
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Key states. A key with items is in exactly one of them, and has exactly
// one entry in the matching index bucket.
const (
	stateReady   = "ready"
	stateLeased  = "leased"
	stateDelayed = "delayed"
)

// keyState is what the inbox knows about one key: its head item and where
// that head is in its life. Lease survives expiry until another Claim
// takes the item, so that a slow worker nobody replaced can still finish.
// Only a head is ever claimed, so its Attempts live here and a claim does
// not rewrite the item's payload.
type keyState struct {
	Head     int64  `json:"head"`
	Priority int    `json:"priority"`
	Attempts int    `json:"attempts,omitempty"`
	State    string `json:"state"`
	Lease    string `json:"lease,omitempty"`
	Until    int64  `json:"until,omitempty"` // lease deadline or end of delay, unix ns
}

// indexEntry returns the index bucket and key that point at this state.
func (st keyState) indexEntry(tx *bbolt.Tx) (*bbolt.Bucket, []byte) {
	switch st.State {
	case stateLeased:
		return tx.Bucket(bucketLeased), join(u64(st.Until), u64(st.Head))
	case stateDelayed:
		return tx.Bucket(bucketDelayed), join(u64(st.Until), u64(st.Head))
	}
	return tx.Bucket(bucketReady), priorityKey(st.Priority, st.Head)
}

func getState(tx *bbolt.Tx, ikey []byte) (keyState, bool, error) {
	raw := tx.Bucket(bucketKeys).Get(ikey)
	if raw == nil {
		return keyState{}, false, nil
	}
	var st keyState
	return st, true, decode(raw, &st)
}

// setState stores st and its index entry; the caller removed the old one.
func setState(tx *bbolt.Tx, ikey []byte, st keyState) error {
	raw, err := encode(st)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketKeys).Put(ikey, raw); err != nil {
		return err
	}
	b, k := st.indexEntry(tx)
	return b.Put(k, ikey)
}

func clearIndex(tx *bbolt.Tx, st keyState) error {
	b, k := st.indexEntry(tx)
	return b.Delete(k)
}

// Enqueue stores d unless its WebhookID or EventID was seen within dedupTTL.
func (s *Store) Enqueue(ctx context.Context, d store.Delivery, dedupTTL time.Duration) (bool, error) {
	if err := checkCtx(ctx, "enqueue"); err != nil {
		return false, err
	}
	ids := dedupKeys(d)
	if len(ids) > 0 && dedupTTL <= 0 {
		return false, nova.Errorf(nova.EINVALID, "enqueue: a deduplication window (dedupTTL > 0) is required with a webhook or event id")
	}
	now := time.Now()
	if d.EnqueuedAt.IsZero() {
		d.EnqueuedAt = now
	}
	d.EnqueuedAt, d.Attempts, d.Lease = d.EnqueuedAt.UTC(), 0, ""
	var stored bool
	// Deliveries arrive concurrently; batching shares their fsyncs.
	err := s.batch("enqueue", func(tx *bbolt.Tx) error {
		stored = false
		seen, exp := tx.Bucket(bucketDedup), tx.Bucket(bucketDedupExp)
		for _, id := range ids {
			if v := seen.Get(id); v != nil && i64(v) > now.UnixNano() {
				return nil
			}
		}
		until := u64(now.Add(dedupTTL).UnixNano())
		for _, id := range ids {
			if old := seen.Get(id); old != nil {
				if err := exp.Delete(join(old, id)); err != nil {
					return err
				}
			}
			if err := seen.Put(id, until); err != nil {
				return err
			}
			if err := exp.Put(join(until, id), nil); err != nil {
				return err
			}
		}
		items := tx.Bucket(bucketItems)
		seq, err := items.NextSequence()
		if err != nil {
			return err
		}
		d.Seq = int64(seq)
		body, err := encode(d)
		if err != nil {
			return err
		}
		if err := items.Put(u64(d.Seq), body); err != nil {
			return err
		}
		ikey := []byte(inboxKey(d.Key, d.Seq))
		if err := tx.Bucket(bucketQueue).Put(join(lenPrefix(string(ikey)), u64(d.Seq)), u64(int64(d.Priority))); err != nil {
			return err
		}
		_, exists, err := getState(tx, ikey)
		if err != nil {
			return err
		}
		if !exists {
			st := keyState{Head: d.Seq, Priority: d.Priority, State: stateReady}
			if err := setState(tx, ikey, st); err != nil {
				return err
			}
		}
		if err := addDepth(tx, 1); err != nil {
			return err
		}
		stored = true
		return nil
	})
	return stored && err == nil, err
}

// dedupKeys returns the deduplication keys of d, webhook and event ids
// kept apart so that an event id never collides with a webhook id.
func dedupKeys(d store.Delivery) [][]byte {
	var ids [][]byte
	if d.WebhookID != "" {
		ids = append(ids, []byte("w"+d.WebhookID))
	}
	if d.EventID != "" {
		ids = append(ids, []byte("e"+d.EventID))
	}
	return ids
}

var depthKey = []byte("inbox.depth")

func addDepth(tx *bbolt.Tx, n int64) error {
	b := tx.Bucket(bucketMeta)
	var cur int64
	if v := b.Get(depthKey); v != nil {
		cur = i64(v)
	}
	return b.Put(depthKey, u64(cur+n))
}

// InboxDepth is the number of items stored.
func (s *Store) InboxDepth(ctx context.Context) (int64, error) {
	if err := checkCtx(ctx, "inbox depth"); err != nil {
		return 0, err
	}
	var n int64
	err := s.view("inbox depth", func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(depthKey); v != nil {
			n = i64(v)
		}
		return nil
	})
	return n, err
}

// leaseHolder loads the state of d's key and checks that d holds its lease.
func leaseHolder(tx *bbolt.Tx, d *store.Delivery) ([]byte, keyState, error) {
	ikey := []byte(inboxKey(d.Key, d.Seq))
	st, ok, err := getState(tx, ikey)
	if err != nil {
		return nil, st, err
	}
	if !ok || d.Lease == "" || st.Lease != d.Lease || st.Head != d.Seq {
		return nil, st, nova.Errorf(nova.ECONFLICT,
			"inbox item %d (key %q): the lease is no longer current; another worker took it over", d.Seq, d.Key)
	}
	return ikey, st, nil
}

// Ack removes d and makes the next item of its key ready.
func (s *Store) Ack(ctx context.Context, d *store.Delivery) error {
	if err := checkCtx(ctx, "ack"); err != nil {
		return err
	}
	return s.update("ack", func(tx *bbolt.Tx) error {
		ikey, st, err := leaseHolder(tx, d)
		if err != nil {
			return err
		}
		if err := clearIndex(tx, st); err != nil {
			return err
		}
		if err := tx.Bucket(bucketItems).Delete(u64(d.Seq)); err != nil {
			return err
		}
		prefix := lenPrefix(string(ikey))
		queue := tx.Bucket(bucketQueue)
		if err := queue.Delete(join(prefix, u64(d.Seq))); err != nil {
			return err
		}
		if err := addDepth(tx, -1); err != nil {
			return err
		}
		k, v := queue.Cursor().Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			return tx.Bucket(bucketKeys).Delete(ikey)
		}
		next := keyState{Head: i64(k[len(prefix):]), Priority: int(i64(v)), State: stateReady}
		return setState(tx, ikey, next)
	})
}

// Extend renews d's lease for lease from now.
func (s *Store) Extend(ctx context.Context, d *store.Delivery, lease time.Duration) error {
	if err := checkCtx(ctx, "extend lease"); err != nil {
		return err
	}
	if lease <= 0 {
		return nova.Errorf(nova.EINVALID, "extend lease: the lease must be positive")
	}
	return s.update("extend lease", func(tx *bbolt.Tx) error {
		ikey, st, err := leaseHolder(tx, d)
		if err != nil {
			return err
		}
		if err := clearIndex(tx, st); err != nil {
			return err
		}
		st.State, st.Until = stateLeased, time.Now().Add(lease).UnixNano()
		return setState(tx, ikey, st)
	})
}

// Release ends d's lease, keeping it at the head of its key, ready again
// after delay.
func (s *Store) Release(ctx context.Context, d *store.Delivery, delay time.Duration) error {
	if err := checkCtx(ctx, "release"); err != nil {
		return err
	}
	return s.update("release", func(tx *bbolt.Tx) error {
		ikey, st, err := leaseHolder(tx, d)
		if err != nil {
			return err
		}
		if err := clearIndex(tx, st); err != nil {
			return err
		}
		st.Lease, st.State, st.Until = "", stateReady, 0
		if delay > 0 {
			st.State, st.Until = stateDelayed, time.Now().Add(delay).UnixNano()
		}
		return setState(tx, ikey, st)
	})
}
