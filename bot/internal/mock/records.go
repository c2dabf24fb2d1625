// Package mock has in-memory fakes of the ports bot's packages declare, in
// the style of function fields: a test sets the functions it expects to be
// called, and a call nobody set fails loudly (like the emulators, a fake
// refuses what it does not model). Records and the audit log are real
// in-memory implementations, so compare-and-set and idempotent appends
// behave as the store contract says.
package mock

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/store"
)

// Records is an in-memory store.Records with versions and expiry, plus an
// in-memory audit log. Now, when set, is its clock for expiry.
type Records struct {
	Now func() time.Time

	mu      sync.Mutex
	items   map[string]record
	version int64
	audit   []nova.AuditEntry
	// FailGet and FailPut, when set, answer every Get or Put of that kind
	// with the error (an unreachable store).
	FailGet, FailPut map[string]error
}

type record struct {
	value   []byte
	version int64
	expires time.Time
}

// NewRecords returns an empty store.
func NewRecords() *Records { return &Records{items: map[string]record{}} }

func (r *Records) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Records) live(k string) (record, bool) {
	it, ok := r.items[k]
	if ok && !it.expires.IsZero() && !r.now().Before(it.expires) {
		delete(r.items, k)
		return record{}, false
	}
	return it, ok
}

// Get implements store.Records.
func (r *Records) Get(_ context.Context, kind, id string) (store.Item, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.FailGet[kind]; err != nil {
		return store.Item{}, err
	}
	it, ok := r.live(kind + "/" + id)
	if !ok {
		return store.Item{}, store.ErrNotFound(kind, id)
	}
	return store.Item{ID: id, Value: append([]byte(nil), it.value...), Version: it.version}, nil
}

// Put implements store.Records.
func (r *Records) Put(_ context.Context, kind, id string, value []byte, version int64, ttl time.Duration) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.FailPut[kind]; err != nil {
		return 0, err
	}
	k := kind + "/" + id
	it, ok := r.live(k)
	switch {
	case version == store.AnyVersion:
	case version == 0 && ok, version != 0 && (!ok || it.version != version):
		return 0, store.ErrConflict(kind, id)
	}
	r.version++
	rec := record{value: append([]byte(nil), value...), version: r.version}
	if ttl > 0 {
		rec.expires = r.now().Add(ttl)
	}
	r.items[k] = rec
	return rec.version, nil
}

// Delete implements store.Records.
func (r *Records) Delete(_ context.Context, kind, id string, version int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := kind + "/" + id
	it, ok := r.live(k)
	if !ok {
		return nil
	}
	if version != store.AnyVersion && it.version != version {
		return store.ErrConflict(kind, id)
	}
	delete(r.items, k)
	return nil
}

// List implements store.Records.
func (r *Records) List(_ context.Context, kind, after string, limit int) ([]store.Item, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []store.Item
	for k := range r.items {
		if len(k) > len(kind) && k[:len(kind)+1] == kind+"/" && k[len(kind)+1:] > after {
			if it, ok := r.live(k); ok {
				out = append(out, store.Item{ID: k[len(kind)+1:], Value: it.value, Version: it.version})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// AppendAudit implements the append of store.AuditLog: idempotent by id.
func (r *Records) AppendAudit(_ context.Context, e nova.AuditEntry) (nova.AuditEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.FailPut["audit"]; err != nil {
		return e, err
	}
	for _, have := range r.audit {
		if have.ID == e.ID {
			return have, nil
		}
	}
	e.Seq = int64(len(r.audit) + 1)
	e.Hash = fmt.Sprintf("%016x", e.Seq)
	r.audit = append(r.audit, e)
	return e, nil
}

// ListAudit implements store.AuditLog: up to limit entries after afterSeq.
func (r *Records) ListAudit(_ context.Context, afterSeq int64, limit int) ([]nova.AuditEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.FailGet["audit"]; err != nil {
		return nil, err
	}
	var out []nova.AuditEntry
	for _, e := range r.audit {
		if e.Seq > afterSeq && (limit <= 0 || len(out) < limit) {
			out = append(out, e)
		}
	}
	return out, nil
}

// AuditHead implements store.AuditLog.
func (r *Records) AuditHead(context.Context) (nova.AuditHead, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.FailGet["audit"]; err != nil {
		return nova.AuditHead{}, err
	}
	if len(r.audit) == 0 {
		return nova.AuditHead{}, nil
	}
	last := r.audit[len(r.audit)-1]
	return nova.AuditHead{Seq: last.Seq, Hash: last.Hash}, nil
}

// Audited returns the audit entries, or those whose Action is one of actions.
func (r *Records) Audited(actions ...string) []nova.AuditEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []nova.AuditEntry
	for _, e := range r.audit {
		if len(actions) == 0 {
			out = append(out, e)
			continue
		}
		for _, a := range actions {
			if e.Action == a {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// Auditor is an audit log port (Append, Head) over the in-memory log of
// Records: entries without an id get one, as the audit log's writer does.
type Auditor struct{ *Records }

// Append appends e.
func (a Auditor) Append(ctx context.Context, e nova.AuditEntry) error {
	if e.ID == "" {
		e.ID = nova.NewAuditID(time.Now())
	}
	_, err := a.AppendAudit(ctx, e)
	return err
}

// Head returns the log's head, or the zero head when it cannot be read.
func (a Auditor) Head(ctx context.Context) nova.AuditHead {
	h, _ := a.AuditHead(ctx)
	return h
}
