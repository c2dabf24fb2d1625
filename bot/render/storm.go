package render

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/novasre/nova"
)

// stormSectionBudget is how many characters of incident lines one section
// of the summary holds: under Block Kit's 3,000, which the Slack client
// would otherwise clip, dropping the last incidents of the section from the
// summary.
const stormSectionBudget = 2800

// StormListMax bounds the incidents a storm summary lists by name.
const StormListMax = 200

// StormMessage renders a channel's storm summary, begun at started and
// listing incidents (their records by id, where Nova has them): how many
// incidents, the causes they share, and one line per incident with its top
// hypothesis and status. Every incident also has Nova's full hypothesis
// note in PagerDuty.
func StormMessage(started time.Time, incidents []string, records map[string]nova.IncidentRecord) nova.Message {
	n := len(incidents)
	head := nova.Mrkdwnf("Incident storm: %d incidents", n)
	m := nova.Message{Text: head + " — Nova summarises them in this message instead of one message each"}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockHeader, Text: head})

	causes := map[string]int{}
	var lines []nova.Mrkdwn
	resolved, acked := 0, 0
	for i, id := range incidents {
		rec, ok := records[id]
		if !ok {
			if i < StormListMax {
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
		if i < StormListMax {
			lines = append(lines, stormLine(rec))
		}
	}
	summary := nova.Mrkdwnf("Since %s UTC: %d triggered, %d acknowledged, %d resolved.",
		started.UTC().Format("15:04"), n-acked-resolved, acked, resolved)
	if c := causeCounts(causes); c != "" {
		summary += nova.Mrkdwnf(" Likely causes: %s.", c)
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: summary})
	for _, section := range packLines(lines, stormSectionBudget) {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockSection, Text: nova.JoinMrkdwn(section, "\n")})
	}
	if n > StormListMax {
		m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: nova.Mrkdwnf("… and %d more incidents; see PagerDuty.", n-StormListMax)})
	}
	m.Blocks = append(m.Blocks, nova.Block{Kind: nova.BlockContext, Text: "Nova wrote its full hypothesis as a note on each incident in PagerDuty. " +
		"Judge one with `/nova feedback &lt;incident&gt; helpful|wrong`. Action requests follow in this thread."})
	return m
}

// packLines groups lines into runs of at most budget characters (joined by
// newlines), in order; a single longer line gets a run of its own.
func packLines(lines []nova.Mrkdwn, budget int) [][]nova.Mrkdwn {
	var out [][]nova.Mrkdwn
	var cur []nova.Mrkdwn
	size := 0
	for _, l := range lines {
		if len(cur) > 0 && size+1+len(l) > budget {
			out = append(out, cur)
			cur, size = nil, 0
		}
		if len(cur) > 0 {
			size++
		}
		cur = append(cur, l)
		size += len(l)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// stormLine is one incident of the summary.
func stormLine(rec nova.IncidentRecord) nova.Mrkdwn {
	name := rec.ID
	if rec.Number > 0 {
		name = fmt.Sprintf("#%d", rec.Number)
	}
	line := "• " + nova.MrkdwnLink(rec.HTMLURL, name) + " " + nova.EscapeLine(Truncate(rec.Title, 80))
	switch top := rec.Triage.Top(); {
	case rec.Triage == nil:
		line += " — _triage running_"
	case top == nil || rec.Triage.Abstained:
		line += " — _no confident hypothesis_"
	default:
		line += nova.Mrkdwnf(" — *%s* %s (%s)", top.Category, nova.EscapeLine(Truncate(top.Summary, 90)), Percent(top.Confidence))
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
