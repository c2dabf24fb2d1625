package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Claim leases the head item of the best ready key, or returns nil, nil.
func (s *Store) Claim(ctx context.Context, lease time.Duration) (*store.Delivery, error) {
	if err := checkCtx(ctx, "claim"); err != nil {
		return nil, err
	}
	if lease <= 0 {
		return nil, nova.Errorf(nova.EINVALID, "claim: the lease must be positive")
	}
	now := time.Now().UnixNano()
	// Idle workers poll; a read transaction tells them there is nothing
	// to do without paying for a write commit (and its fsync).
	var work bool
	err := s.view("claim", func(tx *bbolt.Tx) error {
		work = claimable(tx, now)
		return nil
	})
	if err != nil || !work {
		return nil, err
	}
	token := newToken()
	var claimed *store.Delivery
	err = s.update("claim", func(tx *bbolt.Tx) error {
		claimed = nil
		if err := promote(tx, bucketLeased, now); err != nil {
			return err
		}
		if err := promote(tx, bucketDelayed, now); err != nil {
			return err
		}
		k, ikey := tx.Bucket(bucketReady).Cursor().First()
		if k == nil {
			return nil
		}
		ikey = append([]byte(nil), ikey...)
		st, ok, err := getState(tx, ikey)
		if err != nil {
			return err
		}
		if !ok {
			return nova.Errorf(nova.EINTERNAL, "claim: ready index names key %q that has no state", ikey)
		}
		if err := clearIndex(tx, st); err != nil {
			return err
		}
		var d store.Delivery
		if err := decode(tx.Bucket(bucketItems).Get(u64(st.Head)), &d); err != nil {
			return err
		}
		st.Attempts++
		st.State, st.Lease, st.Until = stateLeased, token, now+int64(lease)
		if err := setState(tx, ikey, st); err != nil {
			return err
		}
		d.Attempts, d.Lease = st.Attempts, token
		claimed = &d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return claimed, nil
}

// claimable reports whether a key is ready or due to become ready.
func claimable(tx *bbolt.Tx, now int64) bool {
	if k, _ := tx.Bucket(bucketReady).Cursor().First(); k != nil {
		return true
	}
	for _, name := range [][]byte{bucketLeased, bucketDelayed} {
		if k, _ := tx.Bucket(name).Cursor().First(); k != nil && i64(k[:8]) <= now {
			return true
		}
	}
	return false
}

// promote moves keys whose lease expired or whose delay ended (entries of
// index bucket name due by now) into the ready index. It reads only the
// due prefix of the index, which is ordered by time.
func promote(tx *bbolt.Tx, name []byte, now int64) error {
	type due struct{ k, ikey []byte }
	var todo []due
	c := tx.Bucket(name).Cursor()
	for k, v := c.First(); k != nil && i64(k[:8]) <= now; k, v = c.Next() {
		// Copy: the slices are only valid until the bucket is modified.
		todo = append(todo, due{append([]byte(nil), k...), append([]byte(nil), v...)})
	}
	for _, d := range todo {
		if err := tx.Bucket(name).Delete(d.k); err != nil {
			return err
		}
		st, ok, err := getState(tx, d.ikey)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		// The lease token stays: the late holder may still Ack until
		// someone else claims the item.
		st.State, st.Until = stateReady, 0
		if err := setState(tx, d.ikey, st); err != nil {
			return err
		}
	}
	return nil
}
