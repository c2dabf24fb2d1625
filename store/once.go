package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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

// ErrLeaseLost is the cause of the error Do returns when a writer stopped
// owning its key while writing: another writer took the key over, or the
// lease could not be renewed before it ran out. The write's context was
// cancelled at that moment. The caller must record no outcome of its own:
// the key belongs to the other writer, or to whoever resumes it once the
// lease has ended.
var ErrLeaseLost = errors.New("the write's lease was lost")

// Once makes external writes happen once, across retries, crashes and
// replicas, by recording each write's state in Records before and after it.
//
// While a write (or the search for an earlier attempt) is under way, Do
// renews its lease every Lease/3 with compare-and-set on the record, so a
// slow write keeps its key for as long as its writer is alive; the write's
// context is cancelled if another writer took the key or the lease could not
// be renewed before it ran out, so no writer keeps writing past its lease.
type Once struct {
	Records Records
	// Lease is how long a writer holds a key without renewing it: how long
	// a crashed writer keeps others waiting. Do renews it while writing.
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
	var verdict Verdict
	rec, err := UpdateTTL(ctx, o.Records, KindOnce, key, ttl, func(rec *OnceRecord, exists bool) error {
		now := o.now()
		verdict = VerdictWrite
		switch {
		case !exists:
			*rec = OnceRecord{State: OncePending, AuditID: nova.NewAuditID(now)}
		case rec.State == OnceDone:
			verdict = VerdictDone
			return ErrUnchanged
		case rec.Owner != owner && now.Before(rec.LeaseUntil):
			verdict = VerdictBusy
			return ErrUnchanged
		default:
			verdict = VerdictVerify
		}
		rec.Owner, rec.LeaseUntil, rec.UpdatedAt = owner, now.Add(lease), now
		rec.Attempts++
		return nil
	})
	if errors.Is(err, ErrUnchanged) {
		return rec, verdict, nil
	}
	if err != nil {
		return rec, 0, err
	}
	return rec, verdict, nil
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
// remote side refused it), so a later attempt writes afresh. A record that
// another writer owns by now is left alone.
func (o *Once) Abandon(ctx context.Context, key, owner string) error {
	rec, version, err := Load[OnceRecord](ctx, o.Records, KindOnce, key)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.Owner != owner || rec.State == OnceDone {
		return nil
	}
	err = o.Records.Delete(ctx, KindOnce, key, version)
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

// Renew extends owner's lease on key by Lease from now and returns its new
// end. It returns ErrLeaseLost when the record is gone, done, or owned by
// another writer: the caller must stop writing.
func (o *Once) Renew(ctx context.Context, key, owner string) (time.Time, error) {
	lease, ttl, _ := o.defaults()
	rec, err := UpdateTTL(ctx, o.Records, KindOnce, key, ttl, func(rec *OnceRecord, exists bool) error {
		if !exists || rec.State == OnceDone || rec.Owner != owner {
			return ErrLeaseLost
		}
		now := o.now()
		rec.LeaseUntil, rec.UpdatedAt = now.Add(lease), now
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return rec.LeaseUntil, nil
}

// heartbeat renews a writer's lease while its write is under way.
type heartbeat struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}
	lost   error // set before done is closed
}

// keepAlive renews owner's lease on key every Lease/3 until stop is called.
// The returned context is cancelled, with a cause wrapping ErrLeaseLost, when
// another writer took the key or the lease is about to run out unrenewed
// (the store could not be reached): a writer never writes past its lease.
func (o *Once) keepAlive(ctx context.Context, key, owner string, until time.Time) *heartbeat {
	lease, _, _ := o.defaults()
	hctx, cancel := context.WithCancelCause(ctx)
	h := &heartbeat{ctx: hctx, cancel: cancel, done: make(chan struct{})}
	// Stop a tenth of a lease early, so that a successor that trusts the
	// lease's end never overlaps with this writer.
	margin := lease / 10
	fenceIn := func(until time.Time) time.Duration { return max(until.Sub(o.now())-margin, 0) }
	go func() {
		defer close(h.done)
		tick := time.NewTicker(max(lease/3, time.Millisecond))
		defer tick.Stop()
		fence := time.NewTimer(fenceIn(until))
		defer fence.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-fence.C:
				h.lost = nova.WrapError(nova.ECONFLICT, ErrLeaseLost,
					"stopped writing %s: its lease could not be renewed before it ran out (is the store reachable?)", key)
				cancel(h.lost)
				return
			case <-tick.C:
				next, err := o.Renew(hctx, key, owner)
				switch {
				case errors.Is(err, ErrLeaseLost):
					h.lost = nova.WrapError(nova.ECONFLICT, ErrLeaseLost,
						"stopped writing %s: another writer took it over", key)
					cancel(h.lost)
					return
				case err != nil:
					// The store may be back at the next tick; the fence stops
					// the write if it is not back before the lease ends.
					continue
				}
				if !fence.Stop() {
					select {
					case <-fence.C:
					default:
					}
				}
				fence.Reset(fenceIn(next))
			}
		}
	}()
	return h
}

// stop ends the heartbeat and returns the lease-lost error, if the lease
// was lost while writing.
func (h *heartbeat) stop() error {
	h.cancel(nil)
	<-h.done
	return h.lost
}

// modify changes key's record with compare-and-set; fn reports whether it
// changed anything. A missing record is ENOTFOUND.
func (o *Once) modify(ctx context.Context, key string, ttl time.Duration, fn func(*OnceRecord) bool) error {
	_, err := UpdateTTL(ctx, o.Records, KindOnce, key, ttl, func(rec *OnceRecord, exists bool) error {
		if !exists {
			return ErrNotFound(KindOnce, key)
		}
		if !fn(rec) {
			return ErrUnchanged
		}
		return nil
	})
	if errors.Is(err, ErrUnchanged) {
		return nil
	}
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
				hb := o.keepAlive(ctx, key, owner, rec.LeaseUntil)
				found, ok, err := op.Find(hb.ctx, rec.AuditID)
				if lost := hb.stop(); lost != nil && (err != nil || !ok) {
					return "", rec.AuditID, false, lost
				}
				if err != nil {
					_ = o.Yield(context.WithoutCancel(ctx), key, owner)
					return "", rec.AuditID, false, err
				}
				if ok {
					return found, rec.AuditID, false, o.Complete(ctx, key, owner, found)
				}
			}
		}
		hb := o.keepAlive(ctx, key, owner, rec.LeaseUntil)
		res, err := op.Write(hb.ctx, rec.AuditID)
		lost := hb.stop()
		if err != nil {
			if lost != nil {
				// Not ours any more: leave the record to its new owner.
				return "", rec.AuditID, false, lost
			}
			bg := context.WithoutCancel(ctx)
			if definitelyNotWritten(err) {
				_ = o.Abandon(bg, key, owner)
			} else {
				_ = o.Yield(bg, key, owner)
			}
			return "", rec.AuditID, false, err
		}
		// Record with a context that outlives the caller's: the write
		// happened, even if the lease ran out just as it did.
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
