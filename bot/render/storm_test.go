package render

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

// TestStormSummaryListsEveryIncidentWithinBlockLimits: a hundred incidents
// with long titles and hypotheses are all named in the summary, and no
// section exceeds what Slack shows (3,000 characters; beyond it the client
// clips the section and the last incidents vanish from the summary).
func TestStormSummaryListsEveryIncidentWithinBlockLimits(t *testing.T) {
	var ids []string
	records := map[string]nova.IncidentRecord{}
	for i := 0; i < 100; i++ {
		id := fmt.Sprintf("Q%06d", i)
		ids = append(ids, id)
		records[id] = nova.IncidentRecord{ID: id, Number: 1000 + i, Status: nova.StatusTriggered,
			HTMLURL: "https://example.pagerduty.com/incidents/" + id + "?utm=storm-summary-check",
			Title:   strings.Repeat("checkout-api: 5xx error rate above 5% on every replica ", 3),
			Triage: &nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1, Category: nova.CategoryDependency, Confidence: 0.58,
				Summary: strings.Repeat("Likely a failing dependency: the outside host api.payments.example is failing ", 3)}}}}
	}
	m := StormMessage(time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC), ids, records)
	all := ""
	for _, b := range m.Blocks {
		if b.Kind == nova.BlockSection && len(b.Text) > 3000 {
			t.Errorf("a section has %d characters, more than Slack shows", len(b.Text))
		}
		all += string(b.Text) + "\n"
	}
	if len(m.Blocks) > 50 {
		t.Errorf("%d blocks, more than a Slack message may carry", len(m.Blocks))
	}
	for i := range ids {
		if !strings.Contains(all, fmt.Sprintf("|#%d>", 1000+i)) {
			t.Errorf("incident #%d is not listed in the summary", 1000+i)
		}
	}
}
