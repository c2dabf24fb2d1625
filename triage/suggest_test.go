package triage

import (
	"testing"
	"time"

	"github.com/novasre/nova"
)

func suggestInput() Input {
	in := Input{
		Incident: incidentOn("checkout pods OOMKilled"),
		Alerts:   []nova.Alert{alertAt("A1", "checkout pods OOMKilled (exit code 137)", nil)},
		Changes:  []nova.ChangeEvent{changeOn("C1", "Deploy checkout 2.4.0", svcCheckout, 20*time.Minute)},
		Service:  checkoutService(),
	}
	in.Service.Runbooks = []nova.Runbook{
		{Title: "Checkout handbook", URL: "https://rb/handbook"},
		{Title: "Out of memory", URL: "https://rb/oom", Match: "oom|memory"},
		{Title: "Certificates", URL: "https://rb/certs", Match: "x509|certificate"},
		{Title: "Broken pattern", URL: "https://rb/broken", Match: "(["},
	}
	in.Actions = []nova.Action{
		{Name: "raise-memory", Title: "Raise memory limit", Destructive: true, Addresses: []nova.Category{nova.CategoryResource}, Match: "oom", Services: []string{svcCheckout}},
		{Name: "rollback", Title: "Roll back", Destructive: true, Addresses: []nova.Category{nova.CategoryChange}, Services: []string{"*"}},
		{Name: "dashboard", Title: "Open memory dashboard", Addresses: []nova.Category{nova.CategoryResource}, Services: []string{svcCheckout}},
		{Name: "other-service", Title: "Billing only", Addresses: []nova.Category{nova.CategoryResource}, Services: []string{svcBilling}},
		{Name: "no-category", Title: "Addresses nothing", Services: []string{"*"}},
		{Name: "bad-match", Title: "Bad pattern", Addresses: []nova.Category{nova.CategoryResource}, Match: "(", Services: []string{"*"}},
		{Name: "cert-only", Title: "Rotate cert", Addresses: []nova.Category{nova.CategoryResource}, Match: "x509", Services: []string{"*"}},
	}
	return in
}

func TestSuggestions(t *testing.T) {
	res := Analyze(suggestInput(), Options{AbstainBelow: -1}, now0)
	got := map[nova.Category][]string{}
	for _, h := range res.Hypotheses {
		for _, s := range h.Suggestions {
			got[h.Category] = append(got[h.Category], s.ID)
		}
	}
	want := map[nova.Category][]string{
		// runbooks first, then safe actions, then destructive ones
		nova.CategoryResource: {"runbook:https://rb/handbook", "runbook:https://rb/oom", "action:dashboard", "action:raise-memory"},
		// the change hypothesis cites the OOM alert too, so the OOM runbook fits it
		nova.CategoryChange: {"runbook:https://rb/oom", "action:rollback"},
	}
	if res.Hypotheses[0].Category != nova.CategoryResource {
		t.Fatalf("top = %v, want resource for this setup", describeTop(res))
	}
	for cat, ids := range want {
		if len(got[cat]) != len(ids) {
			t.Errorf("%s suggestions = %v, want %v", cat, got[cat], ids)
			continue
		}
		for i := range ids {
			if got[cat][i] != ids[i] {
				t.Errorf("%s suggestions = %v, want %v", cat, got[cat], ids)
				break
			}
		}
	}
}

func TestSuggestionsMarkDestructiveFromCatalog(t *testing.T) {
	in := suggestInput()
	res := Analyze(in, Options{AbstainBelow: -1}, now0)
	catalog := map[string]bool{}
	for _, a := range in.Actions {
		catalog[a.Name] = a.Destructive
	}
	for _, h := range res.Hypotheses {
		for _, s := range h.Suggestions {
			if s.Action == "" {
				if s.Destructive || s.RunbookURL == "" {
					t.Errorf("runbook suggestion %+v", s)
				}
				continue
			}
			if d, ok := catalog[s.Action]; !ok || d != s.Destructive {
				t.Errorf("suggestion %+v does not match the catalog", s)
			}
		}
	}
}

func TestSuggestionsAreBounded(t *testing.T) {
	in := suggestInput()
	for i := 0; i < 20; i++ {
		in.Service.Runbooks = append(in.Service.Runbooks, nova.Runbook{Title: "rb", URL: "https://rb/" + string(rune('a'+i))})
	}
	res := Analyze(in, Options{MaxSuggestions: 3, AbstainBelow: -1}, now0)
	for _, h := range res.Hypotheses {
		if len(h.Suggestions) > 3 {
			t.Errorf("%s has %d suggestions, want at most 3", h.Category, len(h.Suggestions))
		}
	}
}
