package bolt

import (
	"bytes"
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// List bounds: a caller that passes no limit gets a page, and nobody can
// make one read transaction hold the whole store.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// record is the stored form: version, expiry (unix ns, 0 = never), value.
type record struct {
	version int64
	expires int64
	value   []byte
}

func (r record) encode() []byte { return join(u64(r.version), u64(r.expires), r.value) }

func (r record) expired(now int64) bool { return r.expires != 0 && r.expires <= now }

func decodeRecord(raw []byte) (record, error) {
	if len(raw) < 16 {
		return record{}, nova.Errorf(nova.EINTERNAL, "stored record is truncated (%d bytes)", len(raw))
	}
	return record{version: i64(raw[:8]), expires: i64(raw[8:16]), value: raw[16:]}, nil
}

// expiryKey is the records.exp index key of a record that expires.
func expiryKey(expires int64, kind, id string) []byte {
	return join(u64(expires), lenPrefix(kind), []byte(id))
}

func checkKindID(op, kind, id string) error {
	if kind == "" || id == "" {
		return nova.Errorf(nova.EINVALID, "%s: record kind and id are required (got %q/%q)", op, kind, id)
	}
	return nil
}

// current returns the live record kind/id, treating an expired one as
// missing (the sweeper may not have deleted it yet).
func current(b *bbolt.Bucket, id string, now int64) (record, bool, error) {
	if b == nil {
		return record{}, false, nil
	}
	raw := b.Get([]byte(id))
	if raw == nil {
		return record{}, false, nil
	}
	r, err := decodeRecord(raw)
	if err != nil || r.expired(now) {
		return r, false, err
	}
	return r, true, nil
}

// Get returns kind/id, or ENOTFOUND when it is missing or expired.
func (s *Store) Get(ctx context.Context, kind, id string) (store.Item, error) {
	if err := checkCtx(ctx, "get record"); err != nil {
		return store.Item{}, err
	}
	if err := checkKindID("get record", kind, id); err != nil {
		return store.Item{}, err
	}
	var it store.Item
	err := s.view("get record", func(tx *bbolt.Tx) error {
		r, ok, err := current(tx.Bucket(bucketRecords).Bucket([]byte(kind)), id, time.Now().UnixNano())
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrNotFound(kind, id)
		}
		it = store.Item{ID: id, Value: bytes.Clone(r.value), Version: r.version}
		return nil
	})
	return it, err
}

// Put stores value if kind/id is at version (0: absent, AnyVersion: any).
func (s *Store) Put(ctx context.Context, kind, id string, value []byte, version int64, ttl time.Duration) (int64, error) {
	if err := checkCtx(ctx, "put record"); err != nil {
		return 0, err
	}
	if err := checkKindID("put record", kind, id); err != nil {
		return 0, err
	}
	var newVersion int64
	err := s.update("put record", func(tx *bbolt.Tx) error {
		now := time.Now().UnixNano()
		b, err := tx.Bucket(bucketRecords).CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		old, exists, err := current(b, id, now)
		if err != nil {
			return err
		}
		switch {
		case version == store.AnyVersion:
		case version == 0 && !exists:
		case exists && version == old.version:
		default:
			return store.ErrConflict(kind, id)
		}
		if err := dropExpiry(tx, b, kind, id); err != nil {
			return err
		}
		// The kind's sequence only grows, so a record deleted and created
		// again never reuses a version a stale writer might still hold.
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		r := record{version: int64(seq), value: value}
		if ttl > 0 {
			r.expires = now + int64(ttl)
			if err := tx.Bucket(bucketRecExp).Put(expiryKey(r.expires, kind, id), nil); err != nil {
				return err
			}
		}
		newVersion = r.version
		return b.Put([]byte(id), r.encode())
	})
	return newVersion, err
}

// dropExpiry removes the expiry index entry of the stored kind/id, if any.
func dropExpiry(tx *bbolt.Tx, b *bbolt.Bucket, kind, id string) error {
	raw := b.Get([]byte(id))
	if raw == nil {
		return nil
	}
	r, err := decodeRecord(raw)
	if err != nil || r.expires == 0 {
		return err
	}
	return tx.Bucket(bucketRecExp).Delete(expiryKey(r.expires, kind, id))
}

// Delete removes kind/id if it is at version (AnyVersion: whatever it is).
func (s *Store) Delete(ctx context.Context, kind, id string, version int64) error {
	if err := checkCtx(ctx, "delete record"); err != nil {
		return err
	}
	if err := checkKindID("delete record", kind, id); err != nil {
		return err
	}
	return s.update("delete record", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRecords).Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		r, exists, err := current(b, id, time.Now().UnixNano())
		if err != nil {
			return err
		}
		if exists && version != store.AnyVersion && version != r.version {
			return store.ErrConflict(kind, id)
		}
		if err := dropExpiry(tx, b, kind, id); err != nil {
			return err
		}
		return b.Delete([]byte(id))
	})
}

// List returns up to limit live records of kind with id > after, by id.
func (s *Store) List(ctx context.Context, kind, after string, limit int) ([]store.Item, error) {
	if err := checkCtx(ctx, "list records"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	var items []store.Item
	err := s.view("list records", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRecords).Bucket([]byte(kind))
		if b == nil {
			return nil
		}
		now := time.Now().UnixNano()
		c := b.Cursor()
		k, v := c.First()
		if after != "" {
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		}
		for ; k != nil && len(items) < limit; k, v = c.Next() {
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			if r.expired(now) {
				continue
			}
			items = append(items, store.Item{ID: string(k), Value: bytes.Clone(r.value), Version: r.version})
		}
		return nil
	})
	return items, err
}
