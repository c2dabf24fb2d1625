package actions

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
	"github.com/novasre/nova/bot/render"
)

// decide records an Approve or Deny click. Concurrent clicks, double clicks
// and clicks on two replicas all go through compare-and-set on the stored
// request, so the quorum is counted once and only one run starts.
func (f *Flow) decide(ctx context.Context, in nova.Interaction, approve bool) (nova.Reply, error) {
	req, actor, err := f.clickContext(ctx, in)
	if err != nil {
		return nova.Reply{}, err
	}
	var outcome approvals.Outcome
	req, rc, err := f.click(ctx, req.ID, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		next, out, err := approvals.Decide(r, actor, approve, f.cfg.Now())
		outcome = out
		return next, err
	})
	if err != nil {
		return nova.Reply{}, err
	}
	f.approvals.WithLabelValues(string(outcome)).Inc()
	verb := "approval.approve"
	if !approve {
		verb = "approval.deny"
	}
	if outcome != approvals.OutcomeAlreadyCounted {
		if err := f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
			Actor: nova.SlackActor(in.UserID), Action: verb, Outcome: nova.OutcomeOK, Detail: req.ID + " " + req.Action + ": " + string(outcome)}); err != nil {
			return nova.Reply{}, err
		}
	}
	switch outcome {
	case approvals.OutcomeApproved:
		f.refreshApproval(ctx, req)
		f.goBackground(ctx, func(ctx context.Context) { f.startRun(ctx, req.ID) })
		return nova.Reply{Message: render.Text("Approved. Nova is re-checking the incident and will run *%s* now.", req.Title)}, nil
	case approvals.OutcomeApprovalCounted:
		f.refreshApproval(ctx, req)
		have, need := approvals.Tally(req)
		return nova.Reply{Message: render.Text("Your approval is counted (%d of %d). A different approver must approve too.", have, need)}, nil
	case approvals.OutcomeAlreadyCounted:
		if rc.changed {
			f.refreshApproval(ctx, req)
		}
		return nova.Reply{Message: render.Text("You have already approved this; the two-person rule needs someone else.")}, nil
	case approvals.OutcomeDenied:
		f.afterTransition(ctx, req, "")
		return nova.Reply{Message: render.Text("Denied. *%s* will not run.", req.Title)}, nil
	}
	return nova.Reply{}, nil
}

// apply handles the one-click Apply of a non-destructive action.
func (f *Flow) apply(ctx context.Context, in nova.Interaction) (nova.Reply, error) {
	req, actor, err := f.clickContext(ctx, in)
	if err != nil {
		return nova.Reply{}, err
	}
	req, _, err = f.click(ctx, req.ID, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		return approvals.Apply(r, actor, f.cfg.Now())
	})
	if err != nil {
		return nova.Reply{}, err
	}
	if err := f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
		Actor: nova.SlackActor(in.UserID), Action: "action.apply", Outcome: nova.OutcomeOK, Detail: req.ID + " " + req.Action}); err != nil {
		return nova.Reply{}, err
	}
	f.refreshApproval(ctx, req)
	f.goBackground(ctx, func(ctx context.Context) { f.startRun(ctx, req.ID) })
	return nova.Reply{Message: render.Text("Applying *%s*…", req.Title)}, nil
}

// click applies a click's transition to the stored request under the
// approval policy in force now (not the one copied at proposal): the request
// is reconciled first, and what that changed is audited and shown even when
// the click itself is refused.
func (f *Flow) click(ctx context.Context, id string, step func(nova.ApprovalRequest) (nova.ApprovalRequest, error)) (nova.ApprovalRequest, reconciled, error) {
	var rc reconciled
	req, err := f.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		var err error
		if rc, err = f.reconcile(ctx, r); err != nil {
			return r, err
		}
		return step(rc.req)
	})
	if rc.changed {
		f.auditReconciled(ctx, rc)
	}
	if err != nil {
		if req.State == nova.ApprovalExpired {
			f.afterTransition(ctx, req, "")
		} else if rc.changed {
			f.refreshApproval(ctx, req)
		}
	}
	return req, rc, err
}

// clickContext loads the request a button names and resolves the clicker.
func (f *Flow) clickContext(ctx context.Context, in nova.Interaction) (nova.ApprovalRequest, approvals.Actor, error) {
	if !strings.HasPrefix(in.Value, "apr-") {
		return nova.ApprovalRequest{}, approvals.Actor{}, nova.Errorf(nova.EINVALID, "this button does not name an approval request")
	}
	req, err := f.updateRequest(ctx, in.Value, func(*nova.ApprovalRequest) (bool, error) { return false, nil })
	if err != nil {
		return req, approvals.Actor{}, err
	}
	if len(in.Environments) > 0 && !slices.Contains(in.Environments, req.Environment) {
		return req, approvals.Actor{}, nova.Errorf(nova.EFORBIDDEN, "this Slack app is not connected to environment %s", req.Environment)
	}
	groups, err := f.cfg.Gate.UserGroups(ctx, req.Environment, in.UserID, req.Approvers)
	if err != nil {
		return req, approvals.Actor{}, err
	}
	return req, approvals.Actor{UserID: in.UserID, Groups: groups}, nil
}

// refreshApproval updates the request's Slack message in place.
func (f *Flow) refreshApproval(ctx context.Context, req nova.ApprovalRequest) {
	if req.SlackTS == "" {
		return
	}
	svc, ok := f.cfg.Settings().Services[req.ServiceID]
	if !ok {
		return
	}
	chat, err := f.cfg.Chat(req.Environment)
	if err != nil {
		return
	}
	rec, err := f.incident(ctx, req.IncidentID)
	if err != nil {
		return
	}
	uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chat.Update(uctx, req.SlackChannel, req.SlackTS, render.ApprovalMessage(svc, rec, req, f.cfg.Settings().PublicURL)); err != nil {
		f.cfg.Log.WithError(err).WithField("approval_id", req.ID).Warn("could not update the approval message")
	}
}
