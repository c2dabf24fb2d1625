package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/novasre/nova"
)

// Once states.
const (
	OncePending = "pending"
	OnceDone    = "done"
)

// OnceRecord is the bookkeeping of one external write (a note, an ack, a
// Slack post, an action run), kept under its idempotency key.
type OnceRecord struct {
	State      string    `json:"state"`
	Owner      string    `json:"owner"`
	LeaseUntil time.Time `json:"lease_until"`
	Attempts   int       `json:"attempts"`
	// AuditID is allocated by the first attempt and reused by every later
	// one, so the written text (which carries it) can be found again.
	AuditID   string    `json:"audit_id"`
	Result    string    `json:"result,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Verdict tells a writer what to do after Begin.
type Verdict int

// Verdicts.
const (
	// VerdictWrite: first attempt, write now.
	VerdictWrite Verdict = iota
	// VerdictVerify: an earlier attempt may have reached the remote side
	// (it crashed or timed out); look for it before writing again.
	VerdictVerify
	// VerdictDone: already written; the record's Result holds the remote id.
	VerdictDone
	// VerdictBusy: another worker holds the lease; wait and ask again.
	VerdictBusy
)

// OnceOp is one idempotent write.
type OnceOp struct {
	// Write performs the write, carrying auditID in what it writes, and
	// returns the remote id (note id, message ts, ...).
	Write func(ctx context.Context, auditID string) (string, error)
	// Find looks for an earlier attempt's write by auditID. nil means the
	// remote side cannot be searched and the write is retried blindly.
	Find func(ctx context.Context, auditID string) (string, bool, error)
}

// Once makes external writes happen once, across retries, crashes and
// replicas, by recording each write's state in Records before and after it.
type Once struct {
	Records Records
	// Lease bounds how long a writer may hold a key; it must exceed the
	// write's own deadline, or a slow writer and its successor both write.
	Lease time.Duration
	// TTL is how long finished records are kept.
	TTL time.Duration
	// Poll is how often a waiting writer asks again.
	Poll time.Duration
	Now  func() time.Time
}

func (o *Once) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Once) defaults() (lease, ttl, poll time.Duration) {
	lease, ttl, poll = o.Lease, o.TTL, o.Poll
	if lease == 0 {
		lease = 2 * time.Minute
	}
	if ttl == 0 {
		ttl = 30 * 24 * time.Hour
	}
	if poll == 0 {
		poll = 50 * time.Millisecond
	}
	return
}

// Begin claims key for owner, or says why not.
func (o *Once) Begin(ctx context.Context, key, owner string) (OnceRecord, Verdict, error) {
	lease, ttl, _ := o.defaults()
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		now := o.now()
		rec, version, err := Load[OnceRecord](ctx, o.Records, KindOnce, key)
		verdict := VerdictWrite
		switch {
		case nova.IsCode(err, nova.ENOTFOUND):
			rec = OnceRecord{State: OncePending, AuditID: nova.NewAuditID(now)}
		case err != nil:
			return rec, 0, err
		case rec.State == OnceDone:
			return rec, VerdictDone, nil
		case rec.Owner != owner && now.Before(rec.LeaseUntil):
			return rec, VerdictBusy, nil
		default:
			verdict = VerdictVerify
		}
		rec.Owner, rec.LeaseUntil, rec.UpdatedAt = owner, now.Add(lease), now
		rec.Attempts++
		if err := o.put(ctx, key, rec, version, ttl); err != nil {
			if nova.IsCode(err, nova.ECONFLICT) {
				continue
			}
			return rec, 0, err
		}
		return rec, verdict, nil
	}
	return OnceRecord{}, 0, nova.Errorf(nova.ECONFLICT, "idempotency key %s: too much contention", key)
}

// Complete records that owner's write of key succeeded with result.
func (o *Once) Complete(ctx context.Context, key, owner, result string) error {
	_, ttl, _ := o.defaults()
	return o.modify(ctx, key, ttl, func(rec *OnceRecord) bool {
		rec.State, rec.Result, rec.Owner, rec.UpdatedAt = OnceDone, result, owner, o.now()
		return true
	})
}

// Abandon forgets key after a write that certainly did not happen (the
// remote side refused it), so a later attempt writes afresh.
func (o *Once) Abandon(ctx context.Context, key, owner string) error {
	it, err := o.Records.Get(ctx, KindOnce, key)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	err = o.Records.Delete(ctx, KindOnce, key, it.Version)
	if nova.IsCode(err, nova.ECONFLICT) {
		return nil // someone else moved on; their record stands
	}
	return err
}

// Yield gives up owner's lease after a write whose fate is unknown, so the
// next attempt verifies at once instead of waiting for the lease to end.
func (o *Once) Yield(ctx context.Context, key, owner string) error {
	_, ttl, _ := o.defaults()
	return o.modify(ctx, key, ttl, func(rec *OnceRecord) bool {
		if rec.State == OnceDone || rec.Owner != owner {
			return false
		}
		rec.LeaseUntil = time.Time{}
		return true
	})
}

func (o *Once) modify(ctx context.Context, key string, ttl time.Duration, fn func(*OnceRecord) bool) error {
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		rec, version, err := Load[OnceRecord](ctx, o.Records, KindOnce, key)
		if err != nil {
			return err
		}
		if !fn(&rec) {
			return nil
		}
		if err := o.put(ctx, key, rec, version, ttl); !nova.IsCode(err, nova.ECONFLICT) {
			return err
		}
	}
	return nova.Errorf(nova.ECONFLICT, "idempotency key %s: too much contention", key)
}

func (o *Once) put(ctx context.Context, key string, rec OnceRecord, version int64, ttl time.Duration) error {
	b, err := jsonMarshal(rec)
	if err != nil {
		return err
	}
	_, err = o.Records.Put(ctx, KindOnce, key, b, version, ttl)
	return err
}

// Do performs op at most once for key and returns the remote id and the
// audit id the write carried. Concurrent callers wait for the one holding
// the lease; a caller that finds an unfinished earlier attempt asks op.Find
// before writing again. done reports whether this call did the write.
func (o *Once) Do(ctx context.Context, key string, op OnceOp) (result, auditID string, wrote bool, err error) {
	_, _, poll := o.defaults()
	owner := NewOwner()
	for {
		rec, verdict, err := o.Begin(ctx, key, owner)
		if err != nil {
			return "", "", false, err
		}
		switch verdict {
		case VerdictDone:
			return rec.Result, rec.AuditID, false, nil
		case VerdictBusy:
			t := time.NewTimer(poll)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", rec.AuditID, false, ctx.Err()
			case <-t.C:
			}
			continue
		case VerdictVerify:
			if op.Find != nil {
				found, ok, err := op.Find(ctx, rec.AuditID)
				if err != nil {
					_ = o.Yield(context.WithoutCancel(ctx), key, owner)
					return "", rec.AuditID, false, err
				}
				if ok {
					return found, rec.AuditID, false, o.Complete(ctx, key, owner, found)
				}
			}
		}
		res, err := op.Write(ctx, rec.AuditID)
		if err != nil {
			bg := context.WithoutCancel(ctx)
			if definitelyNotWritten(err) {
				_ = o.Abandon(bg, key, owner)
			} else {
				_ = o.Yield(bg, key, owner)
			}
			return "", rec.AuditID, false, err
		}
		// Record with a context that outlives the caller's: the write happened.
		return res, rec.AuditID, true, o.Complete(context.WithoutCancel(ctx), key, owner, res)
	}
}

// definitelyNotWritten reports whether err proves the remote side refused
// the write (a 4xx, a refusal before sending, a rate limit answer).
func definitelyNotWritten(err error) bool {
	switch nova.ErrorCode(err) {
	case nova.EINVALID, nova.EUNAUTHORIZED, nova.EFORBIDDEN, nova.ENOTFOUND, nova.ECONFLICT, nova.ERATELIMITED, nova.ETOOLARGE:
		return true
	}
	return false
}

// NewOwner returns a random token naming one attempt.
func NewOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
