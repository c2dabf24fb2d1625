package bot

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

func (a *App) sweepLoop(ctx context.Context) {
	// A short visibility timeout means a short lease: look more often, so a
	// dead replica's run is resumed about as fast as its events.
	t := time.NewTicker(min(sweepEvery, a.cfg.Visibility))
	defer t.Stop()
	for {
		a.Sweep(ctx)
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
func (a *App) Sweep(ctx context.Context) {
	ids, _, err := store.Load[[]string](ctx, a.store, store.KindMeta, openApprovalsKey)
	if err != nil {
		return
	}
	now := a.now()
	for _, id := range ids {
		req, _, err := store.Load[nova.ApprovalRequest](ctx, a.store, store.KindApproval, id)
		if nova.IsCode(err, nova.ENOTFOUND) {
			_ = a.trackOpen(ctx, id, false)
			continue
		}
		if err != nil {
			return
		}
		if req.State == nova.ApprovalPending || req.State == nova.ApprovalApproved {
			if r, err := a.reconcileStored(ctx, id); err == nil {
				req = r
			} else {
				a.log.WithError(err).WithField("approval_id", id).Warn("could not re-evaluate an open request under the current approval policy")
			}
		}
		switch {
		case req.State.Final():
			a.runs.forget("action:" + id)
			_ = a.trackOpen(ctx, id, false)
		case (req.State == nova.ApprovalPending || req.State == nova.ApprovalApproved) && !now.Before(req.ExpiresAt):
			expired, err := a.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
				next, _ := approvals.Expire(r, a.now()) // unchanged if another replica got there first
				return next, nil
			})
			if err == nil && expired.State == nova.ApprovalExpired {
				a.metrics.approvals.WithLabelValues("expired").Inc()
				_ = a.audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
					Action: "approval.expire", Outcome: nova.OutcomeOK, Detail: req.ID + ": " + expired.StateReason})
				a.afterTransition(ctx, expired, "")
			}
		case req.State == nova.ApprovalApproved && now.Sub(req.UpdatedAt) > 30*time.Second:
			a.startRun(ctx, id)
		case req.State == nova.ApprovalRunning && a.orphaned(ctx, req, now):
			a.log.WithField("approval_id", id).Warn("resuming an action run a stopped worker left unfinished (same idempotency key)")
			a.execute(ctx, req)
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
func (a *App) orphaned(ctx context.Context, req nova.ApprovalRequest, now time.Time) bool {
	key := "action:" + req.ID
	rec, version, err := store.Load[store.OnceRecord](ctx, a.store, store.KindOnce, key)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return now.Sub(req.UpdatedAt) > 30*time.Second
	}
	if err != nil {
		return false
	}
	if rec.State != store.OncePending || now.Before(rec.LeaseUntil) {
		a.runs.forget(key)
		return false
	}
	if a.runs.unchangedFor(key, version, now) < a.cfg.Visibility {
		return false
	}
	a.runs.forget(key)
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
