package postmortem

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// MaxAnnouncementChars bounds the PagerDuty note and the Slack text that
// announce a draft, whatever the incident's history: they say what the draft
// holds and link to it; the draft itself lives behind the link.
const MaxAnnouncementChars = 1500

// Path is the API path of an incident's draft.
func Path(incidentID string) string {
	return "/api/v1/incidents/" + url.PathEscape(incidentID) + "/postmortem"
}

// Link is the URL of the draft's Markdown under Nova's public URL, or ""
// when publicURL is not a URL nova.SafeURL accepts.
func Link(publicURL, incidentID string) string {
	base, ok := nova.SafeURL(strings.TrimRight(publicURL, "/"))
	if !ok {
		return ""
	}
	return base + Path(incidentID) + "?format=md"
}

// counts says how many timeline lines come from each source.
func counts(d Draft) string {
	n := map[string]int{}
	for _, l := range d.Timeline {
		n[l.Source]++
	}
	total := len(d.Timeline) + d.Omitted
	var parts []string
	for _, s := range []string{SourcePagerDuty, SourceNote, SourceNova, SourceSlack} {
		if n[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[s], strings.ToLower(sourcePlural(s))))
		}
	}
	out := fmt.Sprintf("%d timeline lines", total)
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	return out
}

func sourcePlural(s string) string {
	switch s {
	case SourcePagerDuty:
		return "PagerDuty log entries"
	case SourceNote:
		return "notes"
	case SourceNova:
		return "Nova acts"
	}
	return "Slack decisions"
}

// NoteBody is the text of the PagerDuty note announcing the draft (the
// caller appends the audit footer). Outside text is shown as nova.NoteText.
func NoteBody(d Draft, link string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Postmortem draft (version %d) for this incident", d.Version)
	if link != "" {
		fmt.Fprintf(&b, ": %s", link)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "It holds %s, Nova's hypothesis beside the resolution, %d proposed action(s), %d contributing change(s) and %d related incident(s).\n",
		counts(d), len(d.Actions), len(d.Changes), len(d.Related))
	fmt.Fprintf(&b, "Did the resolution match the hypothesis: %s.\n", strings.ToLower(verdictWords(d.Outcome.Verdict)))
	b.WriteString("Root cause analysis, what went well, what went badly and action items are left for the responders to write.")
	return nova.NoteText(clip(b.String(), MaxAnnouncementChars))
}

// SlackText is the Slack thread reply announcing the draft; the caller adds
// the "Was Nova's hypothesis right?" buttons.
func SlackText(d Draft, link string) nova.Mrkdwn {
	draft := nova.Mrkdwnf("Postmortem draft, version %d", d.Version)
	if link != "" {
		draft = nova.MrkdwnLink(link, fmt.Sprintf("Postmortem draft, version %d", d.Version))
	}
	body := nova.Mrkdwnf("%s: %s, %d proposed action(s). Resolution vs. hypothesis: *%s*. The analysis sections are yours to write.",
		draft, counts(d), len(d.Actions), strings.ToLower(verdictWords(d.Outcome.Verdict)))
	if d.Hypothesis.Top != nil {
		body += "\n" + nova.Mrkdwnf("Was Nova's hypothesis right? (%s)", clip(d.Hypothesis.Top.Summary, 300))
	}
	return body
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// Action ids of the "Was Nova's hypothesis right?" buttons; their value is
// the incident id.
const (
	ActionAnswerRight  = "postmortem_right"
	ActionAnswerPartly = "postmortem_partly"
	ActionAnswerWrong  = "postmortem_wrong"
)

// AnswerOfAction maps a button's action id to its answer ("" for others).
func AnswerOfAction(actionID string) string {
	switch actionID {
	case ActionAnswerRight:
		return AnswerRight
	case ActionAnswerPartly:
		return AnswerPartly
	case ActionAnswerWrong:
		return AnswerWrong
	}
	return ""
}

// SlackMessage is the thread reply announcing the draft: what it holds, the
// link, and, when Nova posted a hypothesis, the Yes / Partly / No buttons.
func SlackMessage(d Draft, link string) nova.Message {
	text := SlackText(d, link)
	m := nova.Message{Text: text, Blocks: []nova.Block{{Kind: nova.BlockSection, Text: text, MoreURL: link}}}
	if d.Hypothesis.Top != nil {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockActions, Buttons: []nova.Button{
			{ActionID: ActionAnswerRight, Text: "Yes", Value: d.IncidentID, Style: nova.StylePrimary},
			{ActionID: ActionAnswerPartly, Text: "Partly", Value: d.IncidentID},
			{ActionID: ActionAnswerWrong, Text: "No", Value: d.IncidentID},
		}})
	}
	return m
}
