package bot

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/novasre/nova"
)

// stormLinesPerSection keeps each section of the summary well under Block
// Kit's 3,000 characters.
const stormLinesPerSection = 15

// stormMessage renders a channel's storm summary: how many incidents, the
// causes they share, and one line per incident with its top hypothesis and
// status. Every incident also has Nova's full hypothesis note in PagerDuty.
func (a *App) stormMessage(ctx context.Context, ob slackOutbox) nova.Message {
	s := ob.Storm
	n := len(s.Incidents)
	head := fmt.Sprintf("Incident storm: %d incidents", n)
	m := nova.Message{Text: head + " — Nova summarises them in this message instead of one message each"}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockHeader, Text: head})

	causes := map[string]int{}
	var lines []string
	resolved, acked := 0, 0
	for i, id := range s.Incidents {
		rec, err := a.Incident(ctx, id)
		if err != nil {
			if i < slackStormListMax {
				lines = append(lines, "• "+slackSafe(id))
			}
			continue
		}
		switch rec.Status {
		case nova.StatusResolved:
			resolved++
		case nova.StatusAcknowledged:
			acked++
		}
		if top := rec.Triage.Top(); top != nil && !rec.Triage.Abstained {
			causes[string(top.Category)]++
		}
		if i < slackStormListMax {
			lines = append(lines, a.stormLine(rec))
		}
	}
	summary := fmt.Sprintf("Since %s UTC: %d triggered, %d acknowledged, %d resolved.",
		s.Started.UTC().Format("15:04"), n-acked-resolved, acked, resolved)
	if c := causeCounts(causes); c != "" {
		summary += " Likely causes: " + c + "."
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: summary})
	for i := 0; i < len(lines); i += stormLinesPerSection {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: strings.Join(lines[i:min(i+stormLinesPerSection, len(lines))], "\n")})
	}
	if n > slackStormListMax {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: fmt.Sprintf("… and %d more incidents; see PagerDuty.", n-slackStormListMax)})
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: "Nova wrote its full hypothesis as a note on each incident in PagerDuty. " +
		"Judge one with `/nova feedback <incident> helpful|wrong`. Action requests follow in this thread."})
	return m
}

// stormLine is one incident of the summary.
func (a *App) stormLine(rec nova.IncidentRecord) string {
	name := rec.ID
	if rec.Number > 0 {
		name = fmt.Sprintf("#%d", rec.Number)
	}
	if u := safeLinkURL(rec.HTMLURL); u != "" {
		name = "<" + u + "|" + name + ">"
	}
	line := "• " + name + " " + slackSafe(truncate(rec.Title, 80))
	switch top := rec.Triage.Top(); {
	case rec.Triage == nil:
		line += " — _triage running_"
	case top == nil || rec.Triage.Abstained:
		line += " — _no confident hypothesis_"
	default:
		line += fmt.Sprintf(" — *%s* %s (%s)", top.Category, slackSafe(truncate(top.Summary, 90)), percent(top.Confidence))
	}
	switch rec.Status {
	case nova.StatusResolved:
		line += " · :white_check_mark:"
	case nova.StatusAcknowledged:
		line += " · :eyes:"
	}
	if rec.Mode == nova.ModeReadOnly {
		line += " · _shadow_"
	}
	return line
}

func causeCounts(causes map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range causes {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || (all[i].n == all[j].n && all[i].k < all[j].k) })
	var parts []string
	for _, c := range all[:min(3, len(all))] {
		parts = append(parts, fmt.Sprintf("%s ×%d", c.k, c.n))
	}
	return strings.Join(parts, ", ")
}

// slackSafe escapes outside text for Slack mrkdwn (&, <, > as Slack's
// formatting rules require), so a title cannot mention, link or format.
func slackSafe(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// safeLinkURL returns u when it is an http(s) URL that cannot break out of
// a <url|label> link, else "".
func safeLinkURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || strings.ContainsAny(u, "|<> \n") {
		return ""
	}
	return u
}
