package render

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/approvals"
)

// ApprovalMessage renders an action request for Slack: what will run, on
// what, why, who may approve and until when, with its buttons while open.
// The request's title, reason, parameters and result, and the evidence, are
// outside text: escaped, never links or mentions of their own. With a
// publicURL, the state line links the suggestion's page on Nova (its
// linked detail, and the same buttons for a signed-in approver).
func ApprovalMessage(svc nova.Service, rec nova.IncidentRecord, req nova.ApprovalRequest, publicURL string) nova.Message {
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
	state := approvalState(req)
	if page := SuggestionPage(publicURL, rec, req.Action); page != "" {
		state += " · " + nova.MrkdwnLink(page, "Details on Nova")
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: state})
	if req.State == nova.ApprovalPending {
		if req.Destructive {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockActions, Buttons: []nova.Button{
				{ActionID: ActionApprove, Text: "Approve", Value: req.ID, Style: nova.StylePrimary, Confirm: &nova.Confirm{
					Title: "Run " + Truncate(req.Action, 80) + "?",
					Text:  Truncate(fmt.Sprintf("This is destructive: %s on %s. It runs as soon as enough approvers agree.", req.Title, svc.Name), 290),
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
		return ":white_check_mark: Succeeded (approved by " + approvedBy + "): " + nova.EscapeLine(Truncate(req.Result, 300))
	case nova.ApprovalFailed:
		return ":x: Failed: " + nova.EscapeLine(Truncate(OrDash(req.Result), 300))
	case nova.ApprovalDenied:
		for _, d := range req.Decisions {
			if !d.Approve {
				return ":no_entry: Denied by " + nova.MentionUser(d.UserID) + " — nothing ran"
			}
		}
		return ":no_entry: Denied (" + nova.EscapeLine(OrDash(req.StateReason)) + ") — nothing ran"
	}
	return ":grey_question: " + nova.EscapeLine(string(req.State)+": "+req.StateReason) + " — nothing ran"
}

// SuggestionPage is the web page of the suggestion behind action on rec
// (the incident's page when no suggestion names it), or "" without a
// publicURL.
func SuggestionPage(publicURL string, rec nova.IncidentRecord, action string) string {
	if publicURL == "" || rec.ID == "" {
		return ""
	}
	page := strings.TrimRight(publicURL, "/") + "/incidents/" + url.PathEscape(rec.ID)
	if t := rec.Triage; t != nil && action != "" {
		for _, h := range t.Hypotheses {
			for _, s := range h.Suggestions {
				if s.Action == action && s.ID != "" {
					return page + "/suggestions/" + url.PathEscape(s.ID)
				}
			}
		}
	}
	return page
}
