package actions

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
)

// policy is the approval policy in force now for env. An environment that
// is no longer configured has no approvers, so nobody can decide there.
func (f *Flow) policy(env string) approvals.Policy {
	return f.cfg.Settings().Environments[env].Approvals
}

// deciderGroups resolves, for each person whose approval is recorded on req
// and who is not named on it in person, the user groups named on req that
// they belong to now, so that an approval given through a group counts only
// while its author is still in the group.
func (f *Flow) deciderGroups(ctx context.Context, req nova.ApprovalRequest) (approvals.Members, error) {
	var groups []string
	for _, id := range req.Approvers {
		if strings.HasPrefix(id, "S") {
			groups = append(groups, id)
		}
	}
	if len(groups) == 0 {
		return nil, nil
	}
	members := approvals.Members{}
	for _, d := range req.Decisions {
		if _, done := members[d.UserID]; done || !d.Approve || slices.Contains(req.Approvers, d.UserID) {
			continue
		}
		in, err := f.cfg.Gate.UserGroups(ctx, req.Environment, d.UserID, groups)
		if err != nil {
			return nil, err
		}
		members[d.UserID] = in
	}
	return members, nil
}

// reconciled is an open request re-evaluated under the current policy.
type reconciled struct {
	req     nova.ApprovalRequest
	revoked []string // people whose approval no longer counts
	// reopened: it was approved and went back to pending.
	reopened bool
	// changed: anything shown or counted changed.
	changed bool
}

// reconcile re-evaluates r under the approval policy in force now (see
// approvals.Reconcile). It fails, changing nothing, when the user groups of
// the people who approved cannot be checked.
func (f *Flow) reconcile(ctx context.Context, r nova.ApprovalRequest) (reconciled, error) {
	if r.State != nova.ApprovalPending && r.State != nova.ApprovalApproved {
		return reconciled{req: r}, nil
	}
	members, err := f.deciderGroups(ctx, r)
	if err != nil {
		return reconciled{req: r}, nova.WrapError(nova.EUNAVAILABLE, err,
			"could not re-check the approvers of %q against the current approval policy; try again", r.Title)
	}
	out, revoked := approvals.Reconcile(r, f.policy(r.Environment), members, f.cfg.Now())
	return reconciled{req: out, revoked: revoked, changed: requestChanged(r, out),
		reopened: r.State == nova.ApprovalApproved && out.State == nova.ApprovalPending}, nil
}

// auditReconciled records what a policy change did to a request: the
// approvals it withdrew and a return to pending.
func (f *Flow) auditReconciled(ctx context.Context, rc reconciled) {
	req := rc.req
	if len(rc.revoked) > 0 {
		_ = f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
			Action: "approval.revoke", Outcome: nova.OutcomeOK,
			Detail: fmt.Sprintf("%s %s: the approval of %s no longer counts under the current approval policy",
				req.ID, req.Action, strings.Join(rc.revoked, ", "))})
	}
	if rc.reopened {
		have, need := approvals.Tally(req)
		_ = f.cfg.Audit.Append(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
			Action: "approval.reevaluate", Outcome: nova.OutcomeOK,
			Detail: fmt.Sprintf("%s %s: back to pending, %d of the %d approvals the current policy requires", req.ID, req.Action, have, need)})
	}
}

// reconcileStored applies the current policy to a stored open request and,
// when that changed it, records and shows the change. The sweeper calls it
// so that a reload reaches requests nobody clicks.
func (f *Flow) reconcileStored(ctx context.Context, id string) (nova.ApprovalRequest, error) {
	var rc reconciled
	req, err := f.advance(ctx, id, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		var err error
		rc, err = f.reconcile(ctx, r)
		return rc.req, err
	})
	if err != nil {
		return req, err
	}
	if rc.changed {
		f.auditReconciled(ctx, rc)
		f.refreshApproval(ctx, req)
	}
	return req, nil
}

// requestChanged reports whether next differs from r in anything a
// transition or a policy change can touch, so that advance stores it.
func requestChanged(r, next nova.ApprovalRequest) bool {
	return next.State != r.State || len(next.Decisions) != len(r.Decisions) ||
		next.RequiredApprovals != r.RequiredApprovals || !next.ExpiresAt.Equal(r.ExpiresAt) ||
		!slices.Equal(next.Approvers, r.Approvers)
}
