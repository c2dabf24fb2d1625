package bolt

import (
	"context"
	"math"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/novasre/nova"
)

// maxAuditPage bounds one ListAudit call.
const maxAuditPage = 1000

// AppendAudit seals e after the last entry and stores it, unless an entry
// with e's id is already stored: then that entry is returned. bbolt runs one
// write transaction at a time, which is what makes the chain linear.
func (s *Store) AppendAudit(ctx context.Context, e nova.AuditEntry) (nova.AuditEntry, error) {
	if err := checkCtx(ctx, "append audit"); err != nil {
		return e, err
	}
	fillAudit(&e)
	var sealed nova.AuditEntry
	err := s.update("append audit", func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		ids := tx.Bucket(bucketAuditIDs)
		if seq := ids.Get([]byte(e.ID)); seq != nil {
			// Already recorded (a retried act): return the entry as stored.
			if raw := b.Get(seq); raw != nil {
				return decode(raw, &sealed)
			}
		}
		var prev *nova.AuditEntry
		if _, raw := b.Cursor().Last(); raw != nil {
			prev = new(nova.AuditEntry)
			if err := decode(raw, prev); err != nil {
				return err
			}
		}
		sealed = e.SealWith(prev, s.auditKey.Load())
		body, err := encode(sealed)
		if err != nil {
			return err
		}
		if err := ids.Put([]byte(sealed.ID), u64(sealed.Seq)); err != nil {
			return err
		}
		return b.Put(u64(sealed.Seq), body)
	})
	if err != nil {
		return e, err
	}
	return sealed, nil
}

// AuditHead returns the last entry's seq, hash and key id.
func (s *Store) AuditHead(ctx context.Context) (nova.AuditHead, error) {
	if err := checkCtx(ctx, "audit head"); err != nil {
		return nova.AuditHead{}, err
	}
	var last nova.AuditEntry
	err := s.view("audit head", func(tx *bbolt.Tx) error {
		if _, raw := tx.Bucket(bucketAudit).Cursor().Last(); raw != nil {
			return decode(raw, &last)
		}
		return nil
	})
	return last.Head(), err
}

// SetAuditKey sets the key later appends are sealed with (nil: plain chain).
func (s *Store) SetAuditKey(key *nova.AuditKey) { s.auditKey.Store(key) }

// fillAudit gives an entry the id and time its caller forgot, rather than
// refusing to record an act that already happened.
func fillAudit(e *nova.AuditEntry) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.ID == "" {
		e.ID = nova.NewAuditID(e.Time)
	}
}

// ListAudit returns up to limit entries with Seq > afterSeq, in order.
func (s *Store) ListAudit(ctx context.Context, afterSeq int64, limit int) ([]nova.AuditEntry, error) {
	if err := checkCtx(ctx, "list audit"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxAuditPage)
	if afterSeq == math.MaxInt64 {
		return nil, nil // nothing follows, and afterSeq+1 would wrap to the start
	}
	var out []nova.AuditEntry
	err := s.view("list audit", func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		for k, v := c.Seek(u64(max(afterSeq+1, 0))); k != nil && len(out) < limit; k, v = c.Next() {
			var e nova.AuditEntry
			if err := decode(v, &e); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}
