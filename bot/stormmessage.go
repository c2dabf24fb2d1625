package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/render"
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
	head := nova.Mrkdwnf("Incident storm: %d incidents", n)
	m := nova.Message{Text: head + " — Nova summarises them in this message instead of one message each"}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockHeader, Text: head})

	causes := map[string]int{}
	var lines []nova.Mrkdwn
	resolved, acked := 0, 0
	for i, id := range s.Incidents {
		rec, err := a.Incident(ctx, id)
		if err != nil {
			if i < slackStormListMax {
				lines = append(lines, "• "+nova.EscapeLine(id))
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
	summary := nova.Mrkdwnf("Since %s UTC: %d triggered, %d acknowledged, %d resolved.",
		s.Started.UTC().Format("15:04"), n-acked-resolved, acked, resolved)
	if c := causeCounts(causes); c != "" {
		summary += nova.Mrkdwnf(" Likely causes: %s.", c)
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: summary})
	for i := 0; i < len(lines); i += stormLinesPerSection {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: nova.JoinMrkdwn(lines[i:min(i+stormLinesPerSection, len(lines))], "\n")})
	}
	if n > slackStormListMax {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: nova.Mrkdwnf("… and %d more incidents; see PagerDuty.", n-slackStormListMax)})
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: "Nova wrote its full hypothesis as a note on each incident in PagerDuty. " +
		"Judge one with `/nova feedback &lt;incident&gt; helpful|wrong`. Action requests follow in this thread."})
	return m
}

// stormLine is one incident of the summary.
func (a *App) stormLine(rec nova.IncidentRecord) nova.Mrkdwn {
	name := rec.ID
	if rec.Number > 0 {
		name = fmt.Sprintf("#%d", rec.Number)
	}
	line := "• " + nova.MrkdwnLink(rec.HTMLURL, name) + " " + nova.EscapeLine(render.Truncate(rec.Title, 80))
	switch top := rec.Triage.Top(); {
	case rec.Triage == nil:
		line += " — _triage running_"
	case top == nil || rec.Triage.Abstained:
		line += " — _no confident hypothesis_"
	default:
		line += nova.Mrkdwnf(" — *%s* %s (%s)", top.Category, nova.EscapeLine(render.Truncate(top.Summary, 90)), render.Percent(top.Confidence))
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
