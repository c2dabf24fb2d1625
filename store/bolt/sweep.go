package bolt

import (
	"bytes"
	"time"

	bbolt "go.etcd.io/bbolt"
)

// sweepBatch bounds the deletions of one sweep transaction so that the
// sweeper never holds the write lock for long.
const sweepBatch = 1000

// sweepLoop deletes expired data every interval until Close.
func (s *Store) sweepLoop(interval time.Duration) {
	defer close(s.sweepDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep(time.Now().UnixNano())
		}
	}
}

// sweep deletes expired deduplication keys and records. Failures are
// ignored: reads filter expired data anyway, and the next sweep retries.
func (s *Store) sweep(now int64) {
	s.limiter.sweep(now)
	for more := true; more; {
		more = false
		_ = s.db.Update(func(tx *bbolt.Tx) error {
			n, err := sweepIndex(tx, bucketDedupExp, now, func(rest []byte, expires []byte) error {
				seen := tx.Bucket(bucketDedup)
				// Only delete the key if it was not set again since.
				if bytes.Equal(seen.Get(rest), expires) {
					return seen.Delete(rest)
				}
				return nil
			})
			if err != nil {
				return err
			}
			m, err := sweepIndex(tx, bucketRecExp, now, func(rest []byte, expires []byte) error {
				kindLen, width := uvarint(rest)
				if width <= 0 || len(rest) < width+kindLen {
					return nil
				}
				kind, id := rest[width:width+kindLen], rest[width+kindLen:]
				b := tx.Bucket(bucketRecords).Bucket(kind)
				if b == nil {
					return nil
				}
				if raw := b.Get(id); raw != nil {
					if r, err := decodeRecord(raw); err == nil && r.expires == i64(expires) {
						return b.Delete(id)
					}
				}
				return nil
			})
			more = err == nil && n+m >= sweepBatch
			return err
		})
	}
}

// sweepIndex walks the due entries of an expiry index (keys start with an
// 8-byte time), calls drop with the rest of the key, and deletes them.
func sweepIndex(tx *bbolt.Tx, name []byte, now int64, drop func(rest, expires []byte) error) (int, error) {
	var due [][]byte
	c := tx.Bucket(name).Cursor()
	for k, _ := c.First(); k != nil && i64(k[:8]) <= now && len(due) < sweepBatch; k, _ = c.Next() {
		due = append(due, append([]byte(nil), k...))
	}
	for _, k := range due {
		if err := drop(k[8:], k[:8]); err != nil {
			return 0, err
		}
		if err := tx.Bucket(name).Delete(k); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}
