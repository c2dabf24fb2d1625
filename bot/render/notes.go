package render

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

// maxNoteChars keeps notes readable in the PagerDuty timeline; the full
// result is always available from Nova's API.
const maxNoteChars = 6000

// noteFooter ends every note Nova writes: the audit id lets either side find
// the other, and marks the note as Nova's when its webhook echoes back.
func noteFooter(auditID string) string {
	return "— Nova, AI SRE agent · audit " + auditID
}

// auditHeadPrefix starts the line just above the footer that witnesses the
// audit chain's head in PagerDuty's timeline (`nova audit verify
// --incident` reads it back to detect a rewritten or truncated log).
const auditHeadPrefix = "Audit chain head: "

// WithAuditHead adds the audit chain head above a rendered note's footer,
// keeping the note within maxNoteChars; the note is unchanged when the head
// is unknown.
func WithAuditHead(note string, head nova.AuditHead) string {
	i := strings.LastIndex(note, "\n"+noteFooter(""))
	anchor := head.Anchor()
	if i < 0 || anchor == "" {
		return note
	}
	line := "\n" + auditHeadPrefix + anchor
	body := note[:i]
	if over := utf8.RuneCountInString(note) + utf8.RuneCountInString(line) - maxNoteChars; over > 0 {
		body = Truncate(body, utf8.RuneCountInString(body)-over)
	}
	return body + line + note[i:]
}

// modelPhrasedNote marks a hypothesis whose summary a language model
// phrased; its category, confidence and evidence are the engine's.
const modelPhrasedNote = "(Summary phrased by a language model from the evidence below; the cause category, confidence and evidence are Nova's own.)"

// HypothesisNote renders the plain-text hypothesis note: headline first,
// then evidence with links, next steps, what was and was not checked, and
// the audit id. Outside text (summaries, titles, names) goes through
// nova.NoteText; only URLs that pass nova.SafeURL are shown.
func HypothesisNote(rec nova.IncidentRecord, publicURL, auditID string) string {
	var b strings.Builder
	nt := nova.NoteText
	r := rec.Triage
	top := r.Top()
	switch {
	case r == nil || top == nil || r.Abstained:
		b.WriteString("Nova has no confident hypothesis for this incident; it will not guess.\n")
		if r != nil && len(r.Hypotheses) > 0 {
			b.WriteString("\nWeak candidates (below the confidence threshold):\n")
			for _, h := range r.Hypotheses[:min(3, len(r.Hypotheses))] {
				fmt.Fprintf(&b, "- %s (%s, %s)\n", nt(h.Summary), nt(string(h.Category)), Percent(h.Confidence))
			}
		}
	default:
		fmt.Fprintf(&b, "Nova hypothesis: %s\n", nt(top.Summary))
		if r.SummarisedBy == "llm" {
			b.WriteString(modelPhrasedNote + "\n")
		}
		fmt.Fprintf(&b, "Cause category: %s · confidence %s\n", nt(string(top.Category)), Percent(top.Confidence))
		writeEvidence(&b, top.Evidence, rec.TriggeredAt)
		writeSuggestions(&b, top.Suggestions)
		if len(r.Hypotheses) > 1 {
			b.WriteString("\nOther candidates:\n")
			for _, h := range r.Hypotheses[1:min(4, len(r.Hypotheses))] {
				fmt.Fprintf(&b, "- %s (%s, %s)\n", nt(h.Summary), nt(string(h.Category)), Percent(h.Confidence))
			}
		}
		if len(r.Storm) > 0 {
			fmt.Fprintf(&b, "\nPart of an incident storm with %d other incidents: %s\n", len(r.Storm), nt(strings.Join(r.Storm[:min(10, len(r.Storm))], ", ")))
		}
	}
	if r != nil {
		if len(r.Checked) > 0 {
			fmt.Fprintf(&b, "\nChecked: %s\n", nt(strings.Join(r.Checked, ", ")))
		}
		if len(r.NotChecked) > 0 {
			fmt.Fprintf(&b, "Not checked: %s\n", nt(strings.Join(r.NotChecked, "; ")))
		}
	}
	// One link for people and machines: a browser is sent on to the
	// incident's web page (sign-in first), an API client with its key gets
	// the JSON.
	if u, ok := nova.SafeURL(strings.TrimRight(publicURL, "/") + "/api/v1/incidents/" + url.PathEscape(rec.ID)); ok && publicURL != "" {
		fmt.Fprintf(&b, "Full result: %s\n", u)
	}
	return fitNote(b.String(), auditID)
}

func writeEvidence(b *strings.Builder, ev []nova.Evidence, trigger time.Time) {
	if len(ev) == 0 {
		return
	}
	b.WriteString("\nEvidence:\n")
	for _, e := range ev[:min(8, len(ev))] {
		fmt.Fprintf(b, "- %s: %s", nova.NoteText(e.Kind), nova.NoteText(e.Summary))
		if d := trigger.Sub(e.At); !e.At.IsZero() && !trigger.IsZero() && (d >= time.Minute || d <= -time.Minute) &&
			!strings.Contains(e.Summary, " the incident") {
			fmt.Fprintf(b, " (%s)", relative(e.At, trigger))
		}
		if u, ok := nova.SafeURL(e.URL); ok {
			fmt.Fprintf(b, " %s", u)
		}
		b.WriteString("\n")
	}
}

func writeSuggestions(b *strings.Builder, s []nova.Suggestion) {
	if len(s) == 0 {
		return
	}
	b.WriteString("\nSuggested next steps:\n")
	for i, sg := range s {
		fmt.Fprintf(b, "%d. %s", i+1, nova.NoteText(sg.Title))
		switch {
		case sg.Action != "" && sg.Destructive:
			fmt.Fprintf(b, " (catalog action %s; runs only after approval in Slack)", nova.NoteText(sg.Action))
		case sg.Action != "":
			fmt.Fprintf(b, " (catalog action %s)", nova.NoteText(sg.Action))
		}
		if u, ok := nova.SafeURL(sg.RunbookURL); ok {
			fmt.Fprintf(b, " %s", u)
		}
		b.WriteString("\n")
	}
}

// StatusReport describes something Nova did, for a timeline note.
type StatusReport struct {
	// What happened, e.g. "Ran catalog action rollback-checkout".
	What string
	// Target is what it acted on, e.g. "service checkout (PF9KMXH)".
	Target string
	// Why is the reason: the hypothesis or the request.
	Why string
	// ApprovedBy lists the people who approved, as Slack user ids.
	ApprovedBy []string
	// Outcome is succeeded, failed, denied, expired or cancelled, with detail.
	Outcome string
}

// StatusNote renders an action Nova took as a timeline note in one format:
// what, on what, why, who approved, outcome, audit id. Every field can
// carry outside text (a reason quoting a hypothesis, an action's result)
// and goes through nova.NoteText.
func StatusNote(r StatusReport, auditID string) string {
	var b strings.Builder
	nt := nova.NoteText
	fmt.Fprintf(&b, "Nova: %s\n", nt(r.What))
	if r.Target != "" {
		fmt.Fprintf(&b, "On: %s\n", nt(r.Target))
	}
	if r.Why != "" {
		fmt.Fprintf(&b, "Why: %s\n", nt(r.Why))
	}
	if len(r.ApprovedBy) > 0 {
		fmt.Fprintf(&b, "Approved by: %s (Slack)\n", nt(strings.Join(r.ApprovedBy, ", ")))
	}
	if r.Outcome != "" {
		fmt.Fprintf(&b, "Outcome: %s\n", nt(r.Outcome))
	}
	return fitNote(b.String(), auditID)
}

// fitNote truncates body so that body plus footer stays within the limit;
// the footer (with the audit id) is never cut.
func fitNote(body, auditID string) string {
	footer := "\n" + noteFooter(auditID)
	const cut = "\n[truncated: the full result is in Nova's API]"
	limit := maxNoteChars - utf8.RuneCountInString(footer) - 1
	if utf8.RuneCountInString(body) > limit {
		body = Truncate(body, limit-utf8.RuneCountInString(cut)) + cut
	}
	return strings.TrimRight(body, "\n") + "\n" + footer
}

// Truncate cuts s to at most n runes, adding an ellipsis when it cut.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(0, n-1)]) + "…"
}

// Percent shows a confidence as a whole percentage.
func Percent(c float64) string { return fmt.Sprintf("%.0f%%", c*100) }

// relative describes t relative to the trigger time, e.g. "12 min before the incident".
func relative(t, trigger time.Time) string {
	d := trigger.Sub(t)
	word := "before"
	if d < 0 {
		d, word = -d, "after"
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds %s the incident", int(d.Seconds()), word)
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min %s the incident", int(d.Minutes()), word)
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h %s the incident", d.Hours(), word)
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}
