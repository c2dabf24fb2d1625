package render

import (
	"strings"
	"testing"

	"github.com/novasre/nova"
)

// The approval message links the suggestion's page on Nova, and nothing
// without a public URL.
func TestApprovalMessageLinksTheSuggestionPage(t *testing.T) {
	rec := nova.IncidentRecord{ID: "Q1ABC", Triage: &nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1,
		Suggestions: []nova.Suggestion{{ID: "runbook-1", Title: "Read the runbook"}, {ID: "act-rollback", Title: "Roll back", Action: "rollback", Destructive: true}}}}}}
	req := nova.ApprovalRequest{ID: "apr-1", IncidentID: "Q1ABC", Action: "rollback", Title: "Roll back", Destructive: true, State: nova.ApprovalPending}
	svc := nova.Service{ID: "PCHECKOUT", Name: "checkout"}
	state := func(m nova.Message) string {
		for _, b := range m.Blocks {
			if b.Kind == nova.BlockContext {
				return string(b.Text)
			}
		}
		return ""
	}
	got := state(ApprovalMessage(svc, rec, req, "https://nova.example.com/"))
	if !strings.HasSuffix(got, " · <https://nova.example.com/incidents/Q1ABC/suggestions/act-rollback|Details on Nova>") {
		t.Errorf("state line %q does not link the suggestion page", got)
	}
	if got := state(ApprovalMessage(svc, rec, req, "")); strings.Contains(got, "Details on Nova") {
		t.Errorf("state line %q links a page without a public URL", got)
	}
	if p := SuggestionPage("https://nova.example.com", rec, "restart"); p != "https://nova.example.com/incidents/Q1ABC" {
		t.Errorf("no suggestion for the action: %q, want the incident page", p)
	}
}
