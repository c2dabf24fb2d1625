package bot

import (
	"context"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/store"
)

// sweepEvery is how often open approval requests are checked for expiry
// and for runs a crashed replica left unfinished.
const sweepEvery = 10 * time.Second

func (a *App) sweepLoop(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
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

// Sweep expires stale requests and resumes runs whose worker died: a
// request left approved is started, a request left running is executed
// again under its idempotency key once the dead worker's lease has ended.
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
		switch {
		case req.State.Final():
			_ = a.trackOpen(ctx, id, false)
		case (req.State == nova.ApprovalPending || req.State == nova.ApprovalApproved) && !now.Before(req.ExpiresAt):
			expired, err := a.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
				next, _ := approvals.Expire(r, a.now()) // unchanged if another replica got there first
				return next, nil
			})
			if err == nil && expired.State == nova.ApprovalExpired {
				a.metrics.approvals.WithLabelValues("expired").Inc()
				_ = a.audit(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
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

// orphaned reports whether nobody is executing a running request: its run
// record's lease ended, or it has none long after starting.
func (a *App) orphaned(ctx context.Context, req nova.ApprovalRequest, now time.Time) bool {
	rec, _, err := store.Load[store.OnceRecord](ctx, a.store, store.KindOnce, "action:"+req.ID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return now.Sub(req.UpdatedAt) > 30*time.Second
	}
	if err != nil {
		return false
	}
	return rec.State == store.OncePending && now.After(rec.LeaseUntil)
}
