package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
)

// decide records an Approve or Deny click. Concurrent clicks, double clicks
// and clicks on two replicas all go through compare-and-set on the stored
// request, so the quorum is counted once and only one run starts.
func (a *App) decide(ctx context.Context, in nova.Interaction, approve bool) (nova.Reply, error) {
	req, actor, err := a.clickContext(ctx, in)
	if err != nil {
		return nova.Reply{}, err
	}
	var outcome approvals.Outcome
	var rc reconciled
	req, err = a.advance(ctx, req.ID, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		// Decide under the policy in force now, not the one copied at proposal.
		var err error
		if rc, err = a.reconcile(ctx, r); err != nil {
			return r, err
		}
		next, out, err := approvals.Decide(rc.req, actor, approve, a.now())
		outcome = out
		return next, err
	})
	if rc.changed {
		a.auditReconciled(ctx, rc)
	}
	if err != nil {
		if req.State == nova.ApprovalExpired {
			a.afterTransition(ctx, req, "")
		} else if rc.changed {
			a.refreshApproval(ctx, req)
		}
		return nova.Reply{}, err
	}
	a.metrics.approvals.WithLabelValues(string(outcome)).Inc()
	verb := "approval.approve"
	if !approve {
		verb = "approval.deny"
	}
	if outcome != approvals.OutcomeAlreadyCounted {
		if err := a.audit(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
			Actor: nova.SlackActor(in.UserID), Action: verb, Outcome: nova.OutcomeOK, Detail: req.ID + " " + req.Action + ": " + string(outcome)}); err != nil {
			return nova.Reply{}, err
		}
	}
	switch outcome {
	case approvals.OutcomeApproved:
		a.refreshApproval(ctx, req)
		a.goBackground(ctx, func(ctx context.Context) { a.startRun(ctx, req.ID) })
		return nova.Reply{Message: text("Approved. Nova is re-checking the incident and will run *%s* now.", req.Title)}, nil
	case approvals.OutcomeApprovalCounted:
		a.refreshApproval(ctx, req)
		have, need := approvals.Tally(req)
		return nova.Reply{Message: text("Your approval is counted (%d of %d). A different approver must approve too.", have, need)}, nil
	case approvals.OutcomeAlreadyCounted:
		if rc.changed {
			a.refreshApproval(ctx, req)
		}
		return nova.Reply{Message: text("You have already approved this; the two-person rule needs someone else.")}, nil
	case approvals.OutcomeDenied:
		a.afterTransition(ctx, req, "")
		return nova.Reply{Message: text("Denied. *%s* will not run.", req.Title)}, nil
	}
	return nova.Reply{}, nil
}

// apply handles the one-click Apply of a non-destructive action.
func (a *App) apply(ctx context.Context, in nova.Interaction) (nova.Reply, error) {
	req, actor, err := a.clickContext(ctx, in)
	if err != nil {
		return nova.Reply{}, err
	}
	var rc reconciled
	req, err = a.advance(ctx, req.ID, func(r nova.ApprovalRequest) (nova.ApprovalRequest, error) {
		var err error
		if rc, err = a.reconcile(ctx, r); err != nil {
			return r, err
		}
		return approvals.Apply(rc.req, actor, a.now())
	})
	if rc.changed {
		a.auditReconciled(ctx, rc)
	}
	if err != nil {
		if req.State == nova.ApprovalExpired {
			a.afterTransition(ctx, req, "")
		} else if rc.changed {
			a.refreshApproval(ctx, req)
		}
		return nova.Reply{}, err
	}
	if err := a.audit(ctx, nova.AuditEntry{Environment: req.Environment, Service: req.ServiceID, Incident: req.IncidentID,
		Actor: nova.SlackActor(in.UserID), Action: "action.apply", Outcome: nova.OutcomeOK, Detail: req.ID + " " + req.Action}); err != nil {
		return nova.Reply{}, err
	}
	a.refreshApproval(ctx, req)
	a.goBackground(ctx, func(ctx context.Context) { a.startRun(ctx, req.ID) })
	return nova.Reply{Message: text("Applying *%s*…", req.Title)}, nil
}

// clickContext loads the request a button names and resolves the clicker.
func (a *App) clickContext(ctx context.Context, in nova.Interaction) (nova.ApprovalRequest, approvals.Actor, error) {
	if !strings.HasPrefix(in.Value, "apr-") {
		return nova.ApprovalRequest{}, approvals.Actor{}, nova.Errorf(nova.EINVALID, "this button does not name an approval request")
	}
	req, err := a.updateRequest(ctx, in.Value, func(*nova.ApprovalRequest) (bool, error) { return false, nil })
	if err != nil {
		return req, approvals.Actor{}, err
	}
	if len(in.Environments) > 0 && !slices.Contains(in.Environments, req.Environment) {
		return req, approvals.Actor{}, nova.Errorf(nova.EFORBIDDEN, "this Slack app is not connected to environment %s", req.Environment)
	}
	groups, err := a.userGroups(ctx, req.Environment, in.UserID, req.Approvers)
	if err != nil {
		return req, approvals.Actor{}, err
	}
	return req, approvals.Actor{UserID: in.UserID, Groups: groups}, nil
}

// approvalMessage renders an action request for Slack: what will run, on
// what, why, who may approve and until when, with its buttons while open.
// The request's title, reason, parameters and result, and the evidence, are
// outside text: escaped, never links or mentions of their own.
func (a *App) approvalMessage(svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest) nova.Message {
	head := "Approval needed: " + nova.EscapeLine(req.Title)
	if !req.Destructive {
		head = "Suggested action: " + nova.EscapeLine(req.Title)
	}
	m := nova.Message{Text: head}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockHeader, Text: head})
	what := nova.Mrkdwnf("*What will run:* %s — %s\n*On:* service %s (%s), incident %s\n*Why:* %s",
		nova.Code(req.Action), nova.EscapeLine(req.Title), nova.EscapeLine(svc.Name), nova.EscapeLine(svc.ID), incidentLink(rec), nova.EscapeLine(req.Reason))
	if t := rec.Triage; t != nil && t.SummarisedBy == "llm" && t.Top() != nil && strings.Contains(req.Reason, t.Top().Summary) {
		what += " _(summary phrased by a language model)_"
	}
	if len(req.Params) > 0 {
		keys := make([]string, 0, len(req.Params))
		for k := range req.Params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var ps []nova.Mrkdwn
		for _, k := range keys {
			ps = append(ps, nova.EscapeLine(k)+"="+nova.Code(req.Params[k]))
		}
		what += "\n*Parameters:* " + nova.JoinMrkdwn(ps, ", ")
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: what})
	if ev := evidenceText(req.Evidence); ev != "" {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: "*Evidence*\n" + ev, MoreURL: rec.HTMLURL})
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: approvalState(req)})
	if req.State == nova.ApprovalPending {
		if req.Destructive {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockActions, Buttons: []nova.Button{
				{ActionID: ActionApprove, Text: "Approve", Value: req.ID, Style: nova.StylePrimary, Confirm: &nova.Confirm{
					Title: "Run " + truncate(req.Action, 80) + "?",
					Text:  truncate(fmt.Sprintf("This is destructive: %s on %s. It runs as soon as enough approvers agree.", req.Title, svc.Name), 290),
					Yes:   "Approve", No: "Cancel"}},
				{ActionID: ActionDeny, Text: "Deny", Value: req.ID, Style: nova.StyleDanger},
			}})
		} else {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockActions, Buttons: []nova.Button{
				{ActionID: ActionApply, Text: "Apply", Value: req.ID, Style: nova.StylePrimary},
			}})
		}
	}
	return m
}

// incidentLink links the incident's PagerDuty page, when its URL is a plain
// http(s) URL.
func incidentLink(rec nova.IncidentRecord) nova.Mrkdwn {
	name := rec.ID
	if rec.Number > 0 {
		name = fmt.Sprintf("#%d", rec.Number)
	}
	return nova.MrkdwnLink(rec.HTMLURL, name)
}

// approvalState describes where a request stands, for its message.
func approvalState(req nova.ApprovalRequest) nova.Mrkdwn {
	var approvers []nova.Mrkdwn
	for _, id := range req.Approvers {
		if strings.HasPrefix(id, "S") {
			approvers = append(approvers, nova.MentionGroup(id))
		} else {
			approvers = append(approvers, nova.MentionUser(id))
		}
	}
	var by []nova.Mrkdwn
	for _, d := range req.Decisions {
		if d.Approve {
			by = append(by, nova.MentionUser(d.UserID))
		}
	}
	approvedBy := nova.JoinMrkdwn(by, ", ")
	if approvedBy == "" {
		approvedBy = "—"
	}
	switch req.State {
	case nova.ApprovalPending:
		have, need := approvals.Tally(req)
		s := nova.Mrkdwnf(":hourglass: Waiting for approval (%d of %d) from %s · expires %s", have, need,
			nova.JoinMrkdwn(approvers, ", "), req.ExpiresAt.UTC().Format("15:04 UTC"))
		if need > 1 {
			s += " · two-person rule: different people must approve"
		}
		return s
	case nova.ApprovalApproved:
		return ":white_check_mark: Approved by " + nova.JoinMrkdwn(by, ", ") + " — starting"
	case nova.ApprovalRunning:
		return ":gear: Running (approved by " + approvedBy + ")"
	case nova.ApprovalSucceeded:
		return ":white_check_mark: Succeeded (approved by " + approvedBy + "): " + nova.EscapeLine(truncate(req.Result, 300))
	case nova.ApprovalFailed:
		return ":x: Failed: " + nova.EscapeLine(truncate(orDash(req.Result), 300))
	case nova.ApprovalDenied:
		for _, d := range req.Decisions {
			if !d.Approve {
				return ":no_entry: Denied by " + nova.MentionUser(d.UserID) + " — nothing ran"
			}
		}
		return ":no_entry: Denied (" + nova.EscapeLine(orDash(req.StateReason)) + ") — nothing ran"
	}
	return ":grey_question: " + nova.EscapeLine(string(req.State)+": "+req.StateReason) + " — nothing ran"
}

// refreshApproval updates the request's Slack message in place.
func (a *App) refreshApproval(ctx context.Context, req nova.ApprovalRequest) {
	if req.SlackTS == "" {
		return
	}
	svc, ok := a.settings().Services[req.ServiceID]
	if !ok {
		return
	}
	chat, err := a.cfg.Envs.Chat(req.Environment)
	if err != nil {
		return
	}
	rec, err := a.Incident(ctx, req.IncidentID)
	if err != nil {
		return
	}
	uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chat.Update(uctx, req.SlackChannel, req.SlackTS, a.approvalMessage(svc, rec, req)); err != nil {
		a.log.WithError(err).WithField("approval_id", req.ID).Warn("could not update the approval message")
	}
}
