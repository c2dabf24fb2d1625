package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/render"
	"github.com/novasre/nova/bot/writeback"
	"github.com/novasre/nova/store"
)

// startRun moves an approved request to running, re-checking right before
// that the request still has its quorum under the approval policy in force
// now, that PagerDuty confirms the incident is open, the service is still in
// action mode and Nova not paused; only the replica whose compare-and-set
// wins goes on to execute.
func (f *Flow) startRun(ctx context.Context, id string) {
	pre := approvals.Preconditions{}
	won := false
	var rc reconciled
	req, err := f.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		won = false // the step reruns after a lost compare-and-set
		rc = reconciled{req: r}
		if r.State != nova.ApprovalApproved {
			return r, nil // someone else started it, or it ended
		}
		var err error
		if rc, err = f.reconcile(ctx, r); err != nil {
			return r, err // left approved: the sweeper tries again
		}
		if rc.req.State != nova.ApprovalApproved {
			return rc.req, nil // the policy tightened: it waits for more approvals
		}
		pre = f.preconditions(ctx, rc.req)
		next, err := approvals.Start(rc.req, pre, f.cfg.Now())
		won = next.State == nova.ApprovalRunning
		return next, err
	})
	if rc.changed {
		f.auditReconciled(ctx, rc)
	}
	if err != nil {
		f.cfg.Log.WithError(err).WithField("approval_id", id).Info("approved action not run")
		if req.State.Final() {
			f.auditNotRun(ctx, req)
			f.afterTransition(ctx, req, "")
		}
		return
	}
	if rc.reopened {
		f.refreshApproval(ctx, req)
		return
	}
	if won {
		f.refreshApproval(ctx, req)
		f.execute(ctx, req)
	}
}

// autoRun starts a non-destructive auto_run request without a click.
func (f *Flow) autoRun(ctx context.Context, id string, act nova.Action) {
	won := false
	req, err := f.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		rc, err := f.reconcile(ctx, r)
		if err != nil {
			return r, err
		}
		next, err := approvals.AutoStart(rc.req, act, f.preconditions(ctx, rc.req), f.cfg.Now())
		won = r.State != nova.ApprovalRunning && next.State == nova.ApprovalRunning
		return next, err
	})
	if err != nil {
		f.cfg.Log.WithError(err).WithField("approval_id", id).Info("auto_run action not run")
		if req.State.Final() {
			f.auditNotRun(ctx, req)
			f.afterTransition(ctx, req, "")
		}
		return
	}
	if won {
		f.execute(ctx, req)
	}
}

// auditNotRun records why an approved request ended without running (a
// failed precondition, expiry), so the audit says what Slack says.
func (f *Flow) auditNotRun(ctx context.Context, req nova.ApprovalRequest) {
	verb := "approval.cancel"
	if req.State == nova.ApprovalExpired {
		verb = "approval.expire"
	}
	_ = f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
		Action: verb, Outcome: nova.OutcomeOK, Detail: req.ID + " " + req.Action + ": " + req.StateReason})
}

// preconditions reads, fresh, the facts an approved run depends on. Each
// fails closed: an unknown pause switch counts as paused, an unknown mode as
// not action, and only PagerDuty's own answer, just now, says the incident
// is open; Nova's stored record never stands in for it.
func (f *Flow) preconditions(ctx context.Context, req nova.ApprovalRequest) approvals.Preconditions {
	var pre approvals.Preconditions
	paused, err := f.cfg.Gate.Paused(ctx)
	pre.Paused = err != nil || paused // unknown counts as paused: never run blind
	if svc, ok := f.cfg.Settings().Services[req.ServiceID]; ok {
		mode, err := f.cfg.Gate.Mode(ctx, svc)
		pre.ServiceInActionMode = err == nil && mode == nova.ModeAction
	}
	pd, err := f.cfg.PagerDuty(req.Environment)
	var inc nova.Incident
	if err == nil {
		inc, err = pd.GetIncident(ctx, req.IncidentID)
	}
	if err != nil {
		f.cfg.Log.WithError(err).WithField("approval_id", req.ID).WithField("incident_id", req.IncidentID).
			Warn("could not confirm with PagerDuty that the incident is still open; the action will not run")
		pre.IncidentUnconfirmed = true
		return pre
	}
	pre.IncidentOpen = inc.Status == nova.StatusTriggered || inc.Status == nova.StatusAcknowledged
	return pre
}

// runBudget bounds one execution of an action, every attempt and
// Retry-After wait included. It ends inside the lease of the run's record,
// which the heartbeat renews meanwhile, so a run is over before any other
// replica could consider its owner gone.
func (f *Flow) runBudget() time.Duration { return f.cfg.Visibility * 9 / 10 }

// execute runs a request that Start moved to running. The run is recorded
// under the request's idempotency key, so after a crash it is resumed with
// the same key (the receiver deduplicates) and never started twice by Nova:
// the run's lease is renewed while it runs, and the sweeper resumes it only
// once its owner is provably gone.
func (f *Flow) execute(ctx context.Context, req nova.ApprovalRequest) {
	ctx, endSpan := f.span(ctx, "nova.run "+req.Action, "", map[string]string{
		"nova.incident_id": req.IncidentID, "nova.approval_id": req.ID, "nova.action": req.Action})
	defer endSpan(nil)
	if err := mayExecute(req); err != nil {
		// Unreachable through Start; kept as the last check before any side effect.
		f.cfg.Log.WithError(err).WithField("approval_id", req.ID).Error("refusing to execute")
		f.finish(ctx, req, false, nova.ErrorMessage(err))
		return
	}
	if err := f.authorize(ctx, req); err != nil {
		f.cfg.Log.WithError(err).WithField("approval_id", req.ID).Warn("refusing to execute under the current approval policy")
		f.finish(ctx, req, false, nova.ErrorMessage(err))
		return
	}
	exec, err := f.cfg.Executor(req.Action)
	if err != nil {
		f.finish(ctx, req, false, "no executor for "+req.Action+": "+nova.ErrorMessage(err))
		return
	}
	approvedBy := approvals.ApprovedBy(req)
	result, _, _, err := f.cfg.Once.Do(ctx, store.ActionRunKey(req.ID), store.OnceOp{Write: func(ctx context.Context, _ string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, f.runBudget())
		defer cancel()
		return exec.Run(ctx, nova.ActionRun{
			RequestID: req.ID, IdempotencyKey: req.IdempotencyKey, Action: req.Action, Title: req.Title,
			Environment: req.Environment, ServiceID: req.ServiceID, IncidentID: req.IncidentID,
			Params: req.Params, ApprovedBy: approvedBy,
		})
	}})
	if errors.Is(err, store.ErrLeaseLost) {
		// Another replica owns the run now, or will once the lease ends: the
		// outcome is theirs to record.
		f.cfg.Log.WithError(err).WithField("approval_id", req.ID).Warn("stopped an action run whose lease was lost; its outcome is left to the replica that resumes it")
		return
	}
	if err != nil {
		f.finish(ctx, req, false, nova.ErrorMessage(err))
		return
	}
	f.finish(ctx, req, true, result)
}

// authorize re-checks a running request against the approval policy in
// force now, right before its executor is called: an approver removed or a
// quorum raised since the approval stops the run.
func (f *Flow) authorize(ctx context.Context, req nova.ApprovalRequest) error {
	members, err := f.deciderGroups(ctx, req)
	if err != nil {
		return nova.WrapError(nova.EUNAVAILABLE, err, "refusing to run %q: could not re-check its approvers' user groups with Slack", req.Title)
	}
	return approvals.Authorize(req, f.policy(req.Environment), members)
}

// mayExecute is the final guard: a destructive request runs only with the
// required number of distinct human approvals recorded on it.
func mayExecute(req nova.ApprovalRequest) error {
	if req.State != nova.ApprovalRunning {
		return nova.Errorf(nova.ECONFLICT, "request %s is %s, not running", req.ID, req.State)
	}
	if req.Destructive {
		if have, need := approvals.Tally(req); have < need || need < 1 {
			return nova.Errorf(nova.EFORBIDDEN, "refusing to run destructive %s: %d of %d human approvals recorded", req.Action, have, need)
		}
	}
	return nil
}

// finish records the run's outcome and tells both sides.
func (f *Flow) finish(ctx context.Context, req nova.ApprovalRequest, ok bool, result string) {
	done, err := f.advance(ctx, req.ID, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		if r.State != nova.ApprovalRunning {
			return r, nil
		}
		return approvals.Finish(r, ok, result, f.cfg.Now())
	})
	if err != nil {
		f.cfg.Log.WithError(err).WithField("approval_id", req.ID).Error("could not record the action's outcome")
		return
	}
	outcome := "succeeded"
	if !ok {
		outcome = "failed"
	}
	f.approvals.WithLabelValues(outcome).Inc()
	_ = f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
		Action: "action.run", Outcome: map[bool]string{true: nova.OutcomeOK, false: nova.OutcomeFailed}[ok],
		Detail: fmt.Sprintf("%s %s: %s", req.ID, req.Action, render.Truncate(result, 300))})
	f.afterTransition(ctx, done, outcome)
}

// afterTransition writes the timeline note and updates Slack after a
// request reached a final state.
func (f *Flow) afterTransition(ctx context.Context, req nova.ApprovalRequest, outcome string) {
	f.refreshApproval(ctx, req)
	svc, ok := f.cfg.Settings().Services[req.ServiceID]
	if !ok {
		return
	}
	if mode, err := f.cfg.Gate.Mode(ctx, svc); err != nil || mode != nova.ModeAction {
		return // read-only and off services get no PagerDuty writes
	}
	if outcome == "" {
		outcome = string(req.State)
	}
	report := render.StatusReport{
		What:       fmt.Sprintf("catalog action %s (%s) %s", req.Action, req.Title, outcome),
		Target:     fmt.Sprintf("service %s (%s), environment %s", svc.Name, svc.ID, svc.Environment),
		Why:        req.Reason,
		ApprovedBy: approvals.ApprovedBy(req),
		Outcome:    outcome,
	}
	switch req.State {
	case nova.ApprovalSucceeded, nova.ApprovalFailed:
		report.Outcome += ": " + render.Truncate(render.OrDash(req.Result), 500)
	default:
		report.Outcome += ": " + req.StateReason
	}
	_, err := f.cfg.Writer.Note(ctx, svc, req.IncidentID, store.ActionNotePurpose(req.ID, string(req.State)), "pagerduty.note.action",
		func(auditID string) string { return render.StatusNote(report, auditID) })
	if err != nil && !errors.Is(err, writeback.ErrPaused) {
		f.cfg.Log.WithError(err).WithField("approval_id", req.ID).Warn("could not write the action's status note")
	}
}

// cancelOpenRequests withdraws the open requests of an incident.
func (f *Flow) cancelOpenRequests(ctx context.Context, incidentID, reason string) error {
	return f.cancelWhere(ctx, reason, func(r nova.ApprovalRequest) bool { return r.IncidentID == incidentID })
}

// cancelServiceRequests withdraws the open requests of a service.
func (f *Flow) cancelServiceRequests(ctx context.Context, serviceID, reason string) error {
	return f.cancelWhere(ctx, reason, func(r nova.ApprovalRequest) bool { return r.ServiceID == serviceID })
}

func (f *Flow) cancelWhere(ctx context.Context, reason string, match func(nova.ApprovalRequest) bool) error {
	ids, _, err := store.Load[[]string](ctx, f.cfg.Store, store.KindMeta, store.OpenApprovalsID)
	if nova.IsCode(err, nova.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the open requests: %w", err)
	}
	for _, id := range ids {
		req, err := f.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
			if !match(r) || (r.State != nova.ApprovalPending && r.State != nova.ApprovalApproved) {
				return r, nil
			}
			next, _ := approvals.Cancel(r, reason, f.cfg.Now()) // only pending or approved reach here
			return next, nil
		})
		if err != nil {
			if nova.IsCode(err, nova.ENOTFOUND) {
				_ = f.trackOpen(ctx, id, false)
				continue
			}
			return fmt.Errorf("withdraw request %s: %w", id, err)
		}
		if req.State == nova.ApprovalCancelled && match(req) {
			_ = f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
				Action: "approval.cancel", Outcome: nova.OutcomeOK, Detail: req.ID + ": " + reason})
			f.afterTransition(ctx, req, "")
		}
	}
	return nil
}
