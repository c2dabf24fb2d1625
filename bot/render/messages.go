package render

import (
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

// HypothesisMessage renders the Slack message for an incident: title and
// link, urgency and status, the hypothesis with confidence and evidence,
// next steps, and feedback buttons. Shadow (read-only) mode is marked.
// Everything from PagerDuty, the evidence or a language model is outside
// text and goes through nova.Escape; only Nova's own links are links.
func HypothesisMessage(svc nova.Service, rec nova.IncidentRecord, mode nova.Mode) nova.Message {
	title := nova.EscapeLine(rec.Title)
	if rec.Number > 0 {
		title = nova.Mrkdwnf("#%d %s", rec.Number, title)
	}
	m := nova.Message{Text: "Nova hypothesis for " + title}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockHeader, Text: title})
	if mode == nova.ModeReadOnly {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext,
			Text: nova.Mrkdwnf(":see_no_evil: *Shadow mode* — Nova is observing %s and wrote nothing to PagerDuty. Tell it whether it was right with the buttons below.", nova.Code(svc.Name))})
	}
	link := title
	if _, ok := nova.SafeURL(rec.HTMLURL); ok {
		link = nova.MrkdwnLink(rec.HTMLURL, "Open in PagerDuty")
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockFields, Fields: []nova.Mrkdwn{
		"*Service*\n" + nova.EscapeLine(svc.Name),
		"*Urgency*\n" + nova.EscapeLine(OrDash(rec.Urgency)),
		"*Status*\n" + statusLine(rec),
		"*Incident*\n" + link,
	}})
	r := rec.Triage
	top := r.Top()
	switch {
	case r == nil:
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: "_Triage is still running…_"})
	case top == nil || r.Abstained:
		text := nova.Mrkdwn("*No confident hypothesis.* Nova will not guess; investigate as usual.")
		if top != nil {
			text += nova.Mrkdwnf("\nWeakest lead: %s (%s, %s)", nova.EscapeLine(top.Summary), top.Category, Percent(top.Confidence))
		}
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: text})
	default:
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection,
			Text: nova.Mrkdwnf("*Hypothesis* (%s, confidence %s)\n%s", top.Category, Percent(top.Confidence), nova.EscapeLine(top.Summary))})
		if r.SummarisedBy == "llm" {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: modelPhrasedSlack})
		}
		if ev := evidenceText(top.Evidence); ev != "" {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: "*Evidence*\n" + ev, MoreURL: rec.HTMLURL})
		}
		if st := suggestionText(top.Suggestions); st != "" {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: "*Suggested next steps*\n" + st, MoreURL: rec.HTMLURL})
		}
		if len(r.Storm) > 0 {
			m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext,
				Text: nova.Mrkdwnf(":cyclone: Storm: %d other incidents look like the same cause.", len(r.Storm))})
		}
	}
	if r != nil {
		ctxText := "Checked: " + nova.EscapeLine(OrDash(strings.Join(r.Checked, ", ")))
		if len(r.NotChecked) > 0 {
			ctxText += " · Not checked: " + nova.EscapeLine(strings.Join(r.NotChecked, "; "))
		}
		ctxText += nova.Mrkdwnf(" · %.1f s", r.Elapsed.Seconds())
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

// modelPhrasedSlack marks a hypothesis whose summary a language model
// phrased; its category, confidence and evidence are the engine's.
const modelPhrasedSlack nova.Mrkdwn = ":speech_balloon: Summary phrased by a language model from the evidence below; the cause category, confidence and evidence are Nova's own."

func statusLine(rec nova.IncidentRecord) nova.Mrkdwn {
	switch rec.Status {
	case nova.StatusResolved:
		return ":white_check_mark: Resolved"
	case nova.StatusAcknowledged:
		if rec.AckedByName != "" {
			return ":eyes: Acknowledged by " + nova.EscapeLine(rec.AckedByName)
		}
		return ":eyes: Acknowledged"
	}
	return ":rotating_light: Triggered"
}

// evidenceText lists evidence, each item linked when its URL is a plain
// http(s) URL; the summary is the link's (escaped) label.
func evidenceText(ev []nova.Evidence) nova.Mrkdwn {
	var lines []nova.Mrkdwn
	for _, e := range ev[:min(8, len(ev))] {
		lines = append(lines, nova.Mrkdwnf("• _%s_: %s", nova.EscapeLine(e.Kind), nova.MrkdwnLink(e.URL, e.Summary)))
	}
	return nova.JoinMrkdwn(lines, "\n")
}

func suggestionText(s []nova.Suggestion) nova.Mrkdwn {
	var lines []nova.Mrkdwn
	for i, sg := range s {
		line := nova.MrkdwnLink(sg.RunbookURL, sg.Title)
		if sg.Action != "" {
			line += " (" + nova.Code(sg.Action)
			if sg.Destructive {
				line += ", needs approval"
			}
			line += ")"
		}
		lines = append(lines, nova.Mrkdwnf("%d. %s", i+1, line))
	}
	return nova.JoinMrkdwn(lines, "\n")
}

func feedbackLine(rec nova.IncidentRecord) nova.Mrkdwn {
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
	return nova.Mrkdwnf("Feedback: %d helpful, %d wrong cause", helpful, wrong)
}

// OrDash shows an empty value as a dash.
func OrDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// Text builds a one-section message. format is Nova's own mrkdwn; string
// arguments are outside text and are escaped (pass nova.Mrkdwn for mrkdwn
// Nova built, such as a mention).
func Text(format string, args ...any) nova.Message {
	t := nova.Mrkdwnf(format, args...)
	return nova.Message{Text: t, Blocks: []nova.Block{{Kind: nova.BlockSection, Text: t}}}
}
