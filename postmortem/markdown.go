package postmortem

import (
	"fmt"
	"strings"
	"time"

	"github.com/novasre/nova"
)

const stamp = "2006-01-02 15:04:05 UTC"

// md escapes outside text for Markdown and HTML: no emphasis, code, link,
// table cell or HTML element can come from it. Text is already one line.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "|", `\|`, "~", `\~`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
)

func md(s string) string { return mdEscaper.Replace(line(s)) }

// mdLink renders a link to a URL that passed nova.SafeURL, with an escaped
// label; an unsafe or empty URL leaves the label alone.
func mdLink(label, rawURL string) string {
	u := safeURL(rawURL)
	if u == "" {
		return md(label)
	}
	// Characters that would end the destination are percent-encoded.
	u = strings.NewReplacer("(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E").Replace(u)
	return "[" + md(label) + "](" + u + ")"
}

func when(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(stamp)
}

func percent(c float64) string { return fmt.Sprintf("%.0f%%", c*100) }

// Markdown renders the draft as a Markdown document.
func Markdown(d Draft) string {
	var b strings.Builder
	h := d.Header
	title := "Incident " + md(d.IncidentID)
	if h.Number > 0 {
		title = fmt.Sprintf("#%d", h.Number)
	}
	fmt.Fprintf(&b, "# Postmortem draft: %s %s\n\n", title, md(h.Title))
	fmt.Fprintf(&b, "> Draft `%s`, version %d, drafted %s. Nova assembled it from PagerDuty's timeline, "+
		"Slack decisions and its own audit log. It states no root cause: the sections marked *written by people* are yours.\n\n",
		d.ID, d.Version, when(d.GeneratedAt))

	b.WriteString("| | |\n| --- | --- |\n")
	inc := md(d.IncidentID)
	if h.PagerDutyURL != "" {
		inc = mdLink(d.IncidentID, h.PagerDutyURL) + " in PagerDuty"
	}
	fmt.Fprintf(&b, "| Incident | %s |\n", inc)
	svc := md(h.ServiceID)
	if h.ServiceName != "" {
		svc = md(h.ServiceName) + " (" + md(h.ServiceID) + ")"
	}
	fmt.Fprintf(&b, "| Service | %s |\n| Environment | %s |\n", svc, md(h.Environment))
	fmt.Fprintf(&b, "| Urgency | %s |\n| Priority | %s |\n", orDash(md(h.Urgency)), orDash(md(h.Priority)))
	if h.SlackURL != "" {
		fmt.Fprintf(&b, "| Slack | %s |\n", mdLink("incident thread", h.SlackURL))
	}
	fmt.Fprintf(&b, "| Nova's mode | %s |\n\n", orDash(md(string(h.Mode))))

	writeImpact(&b, d.Impact)
	writeTimeline(&b, d)
	writeThought(&b, d)
	writeChanges(&b, d)

	for _, s := range d.Sections {
		fmt.Fprintf(&b, "## %s\n\n", md(s.Title))
		fmt.Fprintf(&b, "<!-- written by people: Nova leaves this section empty and never changes it -->\n")
		fmt.Fprintf(&b, "*Written by people.* %s\n\n", md(s.Prompt))
		if body := strings.TrimSpace(s.Body); body != "" {
			for _, l := range strings.Split(body, "\n") {
				b.WriteString(md(l) + "\n")
			}
			b.WriteString("\n")
		}
	}

	b.WriteString("## Versions\n\n| Version | Drafted | Covers the resolution at |\n| --- | --- | --- |\n")
	for _, r := range d.History {
		fmt.Fprintf(&b, "| %d | %s | %s |\n", r.Version, when(r.DraftedAt), when(r.ResolvedAt))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func writeImpact(b *strings.Builder, im Impact) {
	b.WriteString("## Impact\n\n| | |\n| --- | --- |\n")
	fmt.Fprintf(b, "| Triggered | %s |\n", when(im.TriggeredAt))
	ack := "not acknowledged"
	if !im.FirstAckAt.IsZero() {
		by := "a person"
		switch {
		case im.AckedBy == nova.AckByNova:
			by = "Nova"
		case im.AckedByName != "":
			by = md(im.AckedByName)
		}
		ack = fmt.Sprintf("%s by %s", when(im.FirstAckAt), by)
	}
	fmt.Fprintf(b, "| First acknowledged | %s |\n", ack)
	fmt.Fprintf(b, "| Resolved | %s |\n", when(im.ResolvedAt))
	if !im.FirstAckAt.IsZero() {
		fmt.Fprintf(b, "| Time to acknowledge | %s |\n", minutes(time.Duration(im.TimeToAckSeconds)*time.Second))
	}
	fmt.Fprintf(b, "| Time to resolve | %s |\n", minutes(time.Duration(im.TimeToResolveSeconds)*time.Second))
	esc := "none"
	if n := len(im.Escalations); n > 0 {
		parts := make([]string, n)
		for i, e := range im.Escalations {
			parts[i] = md(e)
		}
		esc = fmt.Sprintf("%d: %s", n, strings.Join(parts, "; "))
	}
	fmt.Fprintf(b, "| Escalations | %s |\n", esc)
	resp := "none recorded"
	if len(im.Responders) > 0 {
		parts := make([]string, len(im.Responders))
		for i, r := range im.Responders {
			parts[i] = md(r)
		}
		resp = strings.Join(parts, ", ")
	}
	fmt.Fprintf(b, "| Responders | %s |\n\n", resp)
}

func writeTimeline(b *strings.Builder, d Draft) {
	b.WriteString("## Timeline\n\n")
	if len(d.Timeline) == 0 {
		b.WriteString("No timeline entries were available.\n\n")
		return
	}
	b.WriteString("| Time (UTC) | Source | Who | What | Ref |\n| --- | --- | --- | --- | --- |\n")
	half := len(d.Timeline) / 2
	for i, l := range d.Timeline {
		if d.Omitted > 0 && i == half {
			fmt.Fprintf(b, "| … | | | %d lines omitted here; the draft keeps the first and last %d | |\n", d.Omitted, MaxTimeline/2)
		}
		ref := ""
		if l.Ref != "" {
			ref = "`" + strings.ReplaceAll(line(l.Ref), "`", "") + "`"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", l.At.UTC().Format("2006-01-02 15:04:05"), l.Source, orDash(md(l.Actor)), md(l.Text), ref)
	}
	b.WriteString("\n")
}

func writeThought(b *strings.Builder, d Draft) {
	b.WriteString("## What Nova thought and what happened\n\n")
	b.WriteString("### Nova's hypothesis at triage\n\n")
	b.WriteString("*Recorded by Nova when the incident triggered; a hypothesis, not a finding.*\n\n")
	hy := d.Hypothesis
	if top := hy.Top; top != nil {
		fmt.Fprintf(b, "**Rank 1** (%s confidence, %s): %s\n", percent(top.Confidence), md(string(top.Category)), md(top.Summary))
		if hy.PhrasedByModel {
			b.WriteString("*Summary phrased by a language model from the evidence below.*\n")
		}
		b.WriteString("\n")
		for _, ev := range top.Evidence {
			label := md(ev.Summary)
			if ev.URL != "" {
				label = mdLink(ev.Summary, ev.URL)
			}
			at := ""
			if !ev.At.IsZero() {
				at = " (" + when(ev.At) + ")"
			}
			fmt.Fprintf(b, "- %s: %s%s\n", md(strings.ReplaceAll(ev.Kind, "_", " ")), label, at)
		}
		for _, s := range top.Suggestions {
			what := md(s.Title)
			if s.RunbookURL != "" {
				what = mdLink(s.Title, s.RunbookURL)
			}
			if s.Action != "" {
				what += " (catalog action `" + strings.ReplaceAll(line(s.Action), "`", "") + "`)"
			}
			fmt.Fprintf(b, "- suggested: %s\n", what)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("Nova abstained: it had no confident hypothesis.\n\n")
	}
	if len(hy.RunnersUp) > 0 {
		b.WriteString("Runners-up:\n\n")
		for _, h := range hy.RunnersUp {
			fmt.Fprintf(b, "- #%d (%s confidence, %s): %s\n", h.Rank, percent(h.Confidence), md(string(h.Category)), md(h.Summary))
		}
		b.WriteString("\n")
	}
	if len(hy.Checked) > 0 || len(hy.NotChecked) > 0 {
		fmt.Fprintf(b, "Checked: %s. Not checked: %s.\n\n", orDash(mdList(hy.Checked)), orDash(mdList(hy.NotChecked)))
	}

	b.WriteString("### What happened\n\n")
	r := d.Resolution
	fmt.Fprintf(b, "- Resolved %s by %s.\n", when(d.Impact.ResolvedAt), orUnknown(md(r.ResolvedBy)))
	if r.ResolveReason != "" {
		fmt.Fprintf(b, "- Resolve reason: %s\n", md(r.ResolveReason))
	}
	if len(r.LastNotes) == 0 {
		b.WriteString("- No notes from people.\n")
	} else {
		b.WriteString("- Last notes from people:\n")
		for _, n := range r.LastNotes {
			fmt.Fprintf(b, "  - %s, %s: %s\n", when(n.CreatedAt), md(n.User.String()), md(n.Content))
		}
	}
	b.WriteString("\n### Actions\n\n")
	if len(d.Actions) == 0 {
		b.WriteString("Nova proposed no catalog action.\n\n")
	} else {
		b.WriteString("| Action | Proposed | Suggested by | State | Approved by | Denied by | Result |\n| --- | --- | --- | --- | --- | --- | --- |\n")
		for _, a := range d.Actions {
			by := "—"
			if a.FromRank > 0 {
				by = fmt.Sprintf("hypothesis #%d", a.FromRank)
			}
			state := string(a.State)
			if a.StateReason != "" {
				state += ": " + md(a.StateReason)
			}
			fmt.Fprintf(b, "| %s (`%s`) | %s | %s | %s | %s | %s | %s |\n", md(a.Title), strings.ReplaceAll(a.Action, "`", ""),
				when(a.ProposedAt), by, state, orDash(mdList(a.ApprovedBy)), orDash(mdList(a.DeniedBy)), orDash(md(a.Result)))
		}
		b.WriteString("\n")
	}
	b.WriteString("### Did the resolution match the hypothesis?\n\n")
	fmt.Fprintf(b, "**%s.** %s\n\n", verdictWords(d.Outcome.Verdict), md(d.Outcome.Basis))
	if d.Hypothesis.Top != nil {
		if len(d.Answers) == 0 {
			b.WriteString("Responders' answers to \"Was Nova's hypothesis right?\": none yet (Yes / Partly / No in the Slack thread).\n\n")
		} else {
			b.WriteString("Responders' answers to \"Was Nova's hypothesis right?\":\n\n")
			for _, a := range d.Answers {
				fmt.Fprintf(b, "- %s: %s (%s)\n", md(a.UserID), answerWords(a.Answer), when(a.At))
			}
			b.WriteString("\n")
		}
	}
}

func verdictWords(v string) string {
	switch v {
	case VerdictMatched:
		return "Matched"
	case VerdictNotMatched:
		return "Did not match"
	case VerdictNoHypothesis:
		return "No hypothesis"
	}
	return "Undecided"
}

func answerWords(a string) string {
	switch a {
	case AnswerRight:
		return "yes"
	case AnswerPartly:
		return "partly"
	}
	return "no"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func mdList(items []string) string {
	parts := make([]string, len(items))
	for i, s := range items {
		parts[i] = md(s)
	}
	return strings.Join(parts, ", ")
}

func writeChanges(b *strings.Builder, d Draft) {
	b.WriteString("## Contributing changes\n\n")
	if len(d.Changes) == 0 {
		b.WriteString("Triage cited no change.\n\n")
	} else {
		for _, c := range d.Changes {
			label := md(c.Summary)
			if c.URL != "" {
				label = mdLink(c.Summary, c.URL)
			}
			fmt.Fprintf(b, "- %s: %s", when(c.At), label)
			if c.ID != "" {
				fmt.Fprintf(b, " (`%s`)", strings.ReplaceAll(line(c.ID), "`", ""))
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Related and concurrent incidents\n\n")
	if len(d.Related) == 0 {
		b.WriteString("Triage found none.\n\n")
		return
	}
	for _, r := range d.Related {
		label := md(r.ID)
		if r.URL != "" {
			label = mdLink(r.ID, r.URL)
		}
		fmt.Fprintf(b, "- %s", label)
		if r.Summary != "" {
			fmt.Fprintf(b, ": %s", md(r.Summary))
		}
		if r.Storm {
			b.WriteString(" (judged to share a cause: same storm)")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}
