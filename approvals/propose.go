package approvals

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// Proposal is what Nova wants to run: one catalog action on one incident.
// The caller supplies ID and IdempotencyKey so that they can be derived from
// the incident and survive a retry of the proposing worker.
type Proposal struct {
	ID             string
	Environment    string
	ServiceID      string
	IncidentID     string
	Action         nova.Action
	Params         map[string]string
	Reason         string
	Evidence       []nova.Evidence
	IdempotencyKey string
}

// Propose turns a proposal into a pending request under pol. A destructive
// request may be decided on by pol.Approvers and needs pol.RequiredApprovals
// distinct approvals. A non-destructive request may be applied with one
// click by anyone in pol.Approvers or pol.Responders; both kinds expire
// pol.ExpiresAfter after now.
func Propose(p Proposal, pol Policy, now time.Time) (nova.ApprovalRequest, error) {
	if err := p.validate(now); err != nil {
		return nova.ApprovalRequest{}, err
	}
	if err := pol.Validate(); err != nil {
		return nova.ApprovalRequest{}, err
	}
	pol = pol.withDefaults()
	title := p.Action.Title
	if title == "" {
		title = p.Action.Name
	}
	req := nova.ApprovalRequest{
		ID:                p.ID,
		Environment:       p.Environment,
		ServiceID:         p.ServiceID,
		IncidentID:        p.IncidentID,
		Action:            p.Action.Name,
		Title:             title,
		Destructive:       p.Action.Destructive,
		Params:            maps.Clone(p.Params),
		Reason:            p.Reason,
		Evidence:          slices.Clone(p.Evidence),
		Approvers:         dedupe(pol.Approvers),
		RequiredApprovals: pol.RequiredApprovals,
		State:             nova.ApprovalPending,
		CreatedAt:         now,
		ExpiresAt:         now.Add(pol.ExpiresAfter),
		UpdatedAt:         now,
		IdempotencyKey:    p.IdempotencyKey,
	}
	if !req.Destructive {
		// The request has a single list of who may decide; for a one-click
		// action that is everyone who may click, and one click is enough.
		req.Approvers = dedupe(append(slices.Clone(pol.Approvers), pol.Responders...))
		req.RequiredApprovals = 1
	}
	return req, nil
}

// validate checks that the proposal names exactly what would run and where,
// since an approval is given for that and nothing else.
func (p Proposal) validate(now time.Time) error {
	for _, f := range []struct{ name, value string }{
		{"id", p.ID}, {"environment", p.Environment}, {"service id", p.ServiceID},
		{"incident id", p.IncidentID}, {"action name", p.Action.Name},
		{"idempotency key", p.IdempotencyKey},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nova.Errorf(nova.EINVALID, "cannot propose an action without %s", f.name)
		}
	}
	if !p.Action.AppliesTo(p.ServiceID) {
		return nova.Errorf(nova.EINVALID, "action %q does not apply to service %s: add the service to the action's services in the catalog",
			p.Action.Name, p.ServiceID)
	}
	if p.Action.Destructive && p.Action.AutoRun {
		return nova.Errorf(nova.EINVALID, "action %q is destructive and marked auto_run: destructive actions always need approval; remove auto_run",
			p.Action.Name)
	}
	if now.IsZero() {
		return nova.Errorf(nova.EINVALID, "cannot propose an action without the current time")
	}
	return nil
}

// dedupe returns ids without repeats, in first-seen order, as a new slice.
func dedupe(ids []string) []string {
	var out []string
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
