package actions

import (
	"context"
	"sync"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/store"
)

// sweepEvery is how often open approval requests are checked for expiry
// and for runs a crashed replica left unfinished.
const sweepEvery = 10 * time.Second

// SweepLoop sweeps open requests (see Sweep) until ctx ends.
func (f *Flow) SweepLoop(ctx context.Context) {
	// A short visibility timeout means a short lease: look more often, so a
	// dead replica's run is resumed about as fast as its events.
	t := time.NewTicker(min(sweepEvery, f.cfg.Visibility))
	defer t.Stop()
	for {
		f.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep re-evaluates open requests under the approval policy in force now
// (a reload reaches requests nobody clicks), expires stale ones, and resumes
// runs whose worker died: a request left approved is started, a request
// left running is executed again under its idempotency key once its owner
// is provably gone (see orphaned).
func (f *Flow) Sweep(ctx context.Context) {
	ids, _, err := store.Load[[]string](ctx, f.cfg.Store, store.KindMeta, store.OpenApprovalsID)
	if err != nil {
		return
	}
	now := f.cfg.Now()
	for _, id := range ids {
		req, _, err := store.Load[nova.ApprovalRequest](ctx, f.cfg.Store, store.KindApproval, id)
		if nova.IsCode(err, nova.ENOTFOUND) {
			_ = f.trackOpen(ctx, id, false)
			continue
		}
		if err != nil {
			return
		}
		if req.State == nova.ApprovalPending || req.State == nova.ApprovalApproved {
			if r, err := f.reconcileStored(ctx, id); err == nil {
				req = r
			} else {
				f.cfg.Log.WithError(err).WithField("approval_id", id).Warn("could not re-evaluate an open request under the current approval policy")
			}
		}
		switch {
		case req.State.Final():
			f.runs.forget(store.ActionRunKey(id))
			_ = f.trackOpen(ctx, id, false)
		case (req.State == nova.ApprovalPending || req.State == nova.ApprovalApproved) && !now.Before(req.ExpiresAt):
			expired, err := f.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
				next, _ := approvals.Expire(r, f.cfg.Now()) // unchanged if another replica got there first
				return next, nil
			})
			if err == nil && expired.State == nova.ApprovalExpired {
				f.approvals.WithLabelValues("expired").Inc()
				_ = f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
					Action: "approval.expire", Outcome: nova.OutcomeOK, Detail: req.ID + ": " + expired.StateReason})
				f.afterTransition(ctx, expired, "")
			}
		case req.State == nova.ApprovalApproved && now.Sub(req.UpdatedAt) > 30*time.Second:
			f.startRun(ctx, id)
		case req.State == nova.ApprovalRunning && f.orphaned(ctx, req, now):
			f.cfg.Log.WithField("approval_id", id).Warn("resuming an action run a stopped worker left unfinished (same idempotency key)")
			f.execute(ctx, req)
		}
	}
}

// orphaned reports whether the worker that started a running request is
// provably gone. With a run record: its lease has ended, and the record has
// not changed (no heartbeat renewed it) for a whole lease since this
// replica first saw the lease ended, measured on this replica's own clock,
// so that clock skew between replicas cannot make a live run look dead.
// Without one: the request has been running for 30 s and its worker never
// began the run (if it begins after all, the compare-and-set on the run
// record lets only one of them call the executor).
func (f *Flow) orphaned(ctx context.Context, req nova.ApprovalRequest, now time.Time) bool {
	key := store.ActionRunKey(req.ID)
	rec, version, err := store.Load[store.OnceRecord](ctx, f.cfg.Store, store.KindOnce, key)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return now.Sub(req.UpdatedAt) > 30*time.Second
	}
	if err != nil {
		return false
	}
	if rec.State != store.OncePending || now.Before(rec.LeaseUntil) {
		f.runs.forget(key)
		return false
	}
	if f.runs.unchangedFor(key, version, now) < f.cfg.Visibility {
		return false
	}
	f.runs.forget(key)
	return true
}

// runWatch remembers run records seen with an ended lease: the version seen
// and since when, on this replica's clock.
type runWatch struct {
	mu   sync.Mutex
	seen map[string]watchedRun
}

type watchedRun struct {
	version int64
	since   time.Time
}

// unchangedFor returns how long key has been seen at version; a new
// version (a renewal, a takeover) starts the count again.
func (w *runWatch) unchangedFor(key string, version int64, now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[string]watchedRun{}
	}
	s, ok := w.seen[key]
	if !ok || s.version != version {
		w.seen[key] = watchedRun{version: version, since: now}
		return 0
	}
	return now.Sub(s.since)
}

func (w *runWatch) forget(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.seen, key)
}
