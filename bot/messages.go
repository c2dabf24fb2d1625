package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/novasre/nova"
)

// Button action ids. A feedback click travels the same path as the typed
// /nova feedback command; approval buttons carry only an opaque request id.
const (
	ActionFeedbackHelpful = "feedback_helpful"
	ActionFeedbackWrong   = "feedback_wrong"
	ActionApprove         = "approve"
	ActionDeny            = "deny"
	ActionApply           = "apply"
)

// hypothesisMessage renders the Slack message for an incident: title and
// link, urgency and status, the hypothesis with confidence and evidence,
// next steps, and feedback buttons. Shadow (read-only) mode is marked.
func (a *App) hypothesisMessage(ctx context.Context, svc nova.Service, rec nova.IncidentRecord, mode nova.Mode) nova.Message {
	title := rec.Title
	if rec.Number > 0 {
		title = fmt.Sprintf("#%d %s", rec.Number, rec.Title)
	}
	m := nova.Message{Text: "Nova hypothesis for " + title}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockHeader, Text: title})
	if mode == nova.ModeReadOnly {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext,
			Text: ":see_no_evil: *Shadow mode* — Nova is observing `" + svc.Name + "` and wrote nothing to PagerDuty. Tell it whether it was right with the buttons below."})
	}
	link := title
	if rec.HTMLURL != "" {
		link = "<" + rec.HTMLURL + "|Open in PagerDuty>"
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockFields, Fields: []string{
		"*Service*\n" + svc.Name,
		"*Urgency*\n" + orDash(rec.Urgency),
		"*Status*\n" + statusLine(rec),
		"*Incident*\n" + link,
	}})
	r := rec.Triage
	top := r.Top()
	switch {
	case r == nil:
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: "_Triage is still running…_"})
	case top == nil || r.Abstained:
		text := "*No confident hypothesis.* Nova will not guess; investigate as usual."
		if top != nil {
			text += fmt.Sprintf("\nWeakest lead: %s (%s, %s)", top.Summary, top.Category, percent(top.Confidence))
		}
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: text})
	default:
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection,
			Text: fmt.Sprintf("*Hypothesis* (%s, confidence %s)\n%s", top.Category, percent(top.Confidence), top.Summary)})
		if ev := evidenceText(top.Evidence); ev != "" {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: "*Evidence*\n" + ev, MoreURL: rec.HTMLURL})
		}
		if st := suggestionText(top.Suggestions); st != "" {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: "*Suggested next steps*\n" + st, MoreURL: rec.HTMLURL})
		}
		if len(r.Storm) > 0 {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext,
				Text: fmt.Sprintf(":cyclone: Storm: %d other incidents look like the same cause.", len(r.Storm))})
		}
	}
	if r != nil {
		ctxText := "Checked: " + orDash(strings.Join(r.Checked, ", "))
		if len(r.NotChecked) > 0 {
			ctxText += " · Not checked: " + strings.Join(r.NotChecked, "; ")
		}
		ctxText += fmt.Sprintf(" · %.1f s", r.Elapsed.Seconds())
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: ctxText})
	}
	if fb := feedbackLine(rec); fb != "" {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: fb})
	}
	if r != nil {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockActions, Buttons: []nova.Button{
			{ActionID: ActionFeedbackHelpful, Text: "Helpful", Value: rec.ID, Style: nova.StylePrimary},
			{ActionID: ActionFeedbackWrong, Text: "Wrong cause", Value: rec.ID},
		}})
	}
	return m
}

func statusLine(rec nova.IncidentRecord) string {
	switch rec.Status {
	case nova.StatusResolved:
		return ":white_check_mark: Resolved"
	case nova.StatusAcknowledged:
		if rec.AckedByName != "" {
			return ":eyes: Acknowledged by " + rec.AckedByName
		}
		return ":eyes: Acknowledged"
	}
	return ":rotating_light: Triggered"
}

func evidenceText(ev []nova.Evidence) string {
	var b strings.Builder
	for _, e := range ev[:min(8, len(ev))] {
		line := e.Summary
		if e.URL != "" {
			line = "<" + e.URL + "|" + escapeLink(e.Summary) + ">"
		}
		fmt.Fprintf(&b, "• _%s_: %s\n", e.Kind, line)
	}
	return strings.TrimRight(b.String(), "\n")
}

func suggestionText(s []nova.Suggestion) string {
	var b strings.Builder
	for i, sg := range s {
		line := sg.Title
		if sg.RunbookURL != "" {
			line = "<" + sg.RunbookURL + "|" + escapeLink(sg.Title) + ">"
		}
		if sg.Action != "" {
			line += " (`" + sg.Action + "`"
			if sg.Destructive {
				line += ", needs approval"
			}
			line += ")"
		}
		fmt.Fprintf(&b, "%d. %s\n", i+1, line)
	}
	return strings.TrimRight(b.String(), "\n")
}

func feedbackLine(rec nova.IncidentRecord) string {
	helpful, wrong := 0, 0
	for _, f := range rec.Feedback {
		if f.Verdict == nova.FeedbackHelpful {
			helpful++
		} else {
			wrong++
		}
	}
	if helpful+wrong == 0 {
		return ""
	}
	return fmt.Sprintf("Feedback: %d helpful, %d wrong cause", helpful, wrong)
}

// escapeLink keeps mrkdwn link text from breaking the <url|text> syntax.
func escapeLink(s string) string {
	return strings.NewReplacer("|", "/", ">", "›", "<", "‹").Replace(s)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// text builds a one-section message.
func text(format string, args ...any) nova.Message {
	t := fmt.Sprintf(format, args...)
	return nova.Message{Text: t, Blocks: []nova.Block{{Kind: nova.BlockSection, Text: t}}}
}
