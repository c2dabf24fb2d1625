package review

import (
	"fmt"
	"strings"
)

// Counts returns how many recommendations of each kind the report makes.
func (r Report) Counts() map[string]int {
	out := map[string]int{}
	for _, it := range r.Recommendations {
		out[it.Recommendation]++
	}
	return out
}

// Tally renders the recommendation counts, most urgent first ("2 fix,
// 1 rotate"), or "nothing to do".
func (r Report) Tally() string {
	c := r.Counts()
	var parts []string
	for _, k := range recOrder {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

// Period renders the reviewed period.
func (r Report) Period() string {
	return fmt.Sprintf("%s → %s (%s)", r.Since.Format("2006-01-02 15:04"), r.GeneratedAt.Format("2006-01-02 15:04 UTC"), span(r.GeneratedAt.Sub(r.Since)))
}

// Markdown renders the whole report.
func (r Report) Markdown() string {
	var b strings.Builder
	b.WriteString("# Nova rollout review\n\n")
	fmt.Fprintf(&b, "Period: %s\n\n", r.Period())
	if r.NeedsAction {
		fmt.Fprintf(&b, "**Needs action:** %s.\n", r.Tally())
	} else {
		fmt.Fprintf(&b, "**Nothing needs action** (%s).\n", r.Tally())
	}
	for _, s := range r.Sections {
		fmt.Fprintf(&b, "\n## %s\n\n", s.Title)
		if len(s.Items) == 0 {
			b.WriteString("Nothing to report.\n")
			continue
		}
		for _, it := range s.Items {
			fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(it.Subject), mdEscape(it.Finding))
			switch {
			case it.Recommendation != "":
				fmt.Fprintf(&b, "  - **%s**: %s\n", strings.ToUpper(it.Recommendation), mdEscape(it.Action))
			case it.Action != "":
				fmt.Fprintf(&b, "  - %s\n", mdEscape(it.Action))
			}
		}
	}
	b.WriteString("\n## Recommendations\n\n")
	if len(r.Recommendations) == 0 {
		b.WriteString("None.\n")
	}
	for _, it := range r.Recommendations {
		fmt.Fprintf(&b, "- **%s** %s (%s): %s\n", strings.ToUpper(it.Recommendation), mdEscape(it.Subject), sectionTitles[it.Section], mdEscape(it.Action))
	}
	return b.String()
}

// mdEscape keeps text from outside Nova (causes typed in Slack, ids) from
// breaking the list structure: one line, no raw HTML.
func mdEscape(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
	return s
}

// MaxSummaryItems bounds the recommendations a summary lists.
const MaxSummaryItems = 10

// Summary renders a short plain-text summary (for Slack, escaped there: it
// names people as @U123 without notifying them): the period, the tally and
// the recommendations, most urgent first, with a link to the full report
// when one is given.
func (r Report) Summary(link string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Rollout review, %s: ", r.Period())
	if r.NeedsAction {
		fmt.Fprintf(&b, "needs action (%s).\n", r.Tally())
	} else {
		fmt.Fprintf(&b, "nothing needs action (%s).\n", r.Tally())
	}
	for i, it := range r.Recommendations {
		if i == MaxSummaryItems {
			fmt.Fprintf(&b, "… and %d more in the full report.\n", len(r.Recommendations)-i)
			break
		}
		fmt.Fprintf(&b, "• %s · %s · %s: %s\n", strings.ToUpper(it.Recommendation), sectionTitles[it.Section], oneLine(it.Subject, 80), oneLine(it.Finding, 140))
	}
	if link != "" {
		fmt.Fprintf(&b, "Full report: %s (or `nova review`)", link)
	} else {
		b.WriteString("Full report: `nova review`")
	}
	return b.String()
}

func oneLine(s string, n int) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
