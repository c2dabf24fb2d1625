package backtest

import (
	"testing"
	"time"

	"github.com/novasre/nova"
)

func outcomeOf(resolution string, notes ...string) Outcome {
	inc := nova.Incident{ID: "Q1", CreatedAt: t0, ResolvedAt: at(time.Hour), Status: nova.StatusResolved}
	alice := &nova.Ref{ID: "PALICE", Summary: "Alice"}
	log := []nova.LogEntry{
		{Type: "resolve_log_entry", Summary: "Resolved by Alice" + resolution, CreatedAt: at(time.Hour), Agent: alice},
		{Type: "trigger_log_entry", CreatedAt: t0},
		{Type: "escalate_log_entry", CreatedAt: at(5 * time.Minute)},
		{Type: "acknowledge_log_entry", CreatedAt: at(7 * time.Minute), Agent: alice},
		{Type: "acknowledge_log_entry", CreatedAt: at(9 * time.Minute), Agent: &nova.Ref{Summary: "Bob"}},
	}
	var ns []nova.Note
	for i, n := range notes {
		ns = append(ns, nova.Note{ID: "N", Content: n, CreatedAt: at(time.Duration(10+i) * time.Minute)})
	}
	ns = append(ns, nova.Note{Content: "Nova: likely deploy v41 (audit nova-123)", CreatedAt: at(time.Second)},
		nova.Note{Content: "before the trigger", CreatedAt: at(-time.Minute)})
	changes := []nova.ChangeEvent{
		{ID: "01CHG41", Summary: "deploy checkout v41", Timestamp: at(-time.Hour)},
		{ID: "01CHG42", Summary: "deploy checkout v42", Timestamp: at(-10 * time.Minute), Links: []nova.Link{{Href: "https://ci.example.com/b/42"}}},
		{ID: "01CFG", Summary: "feature flag flip", Timestamp: at(-5 * time.Minute)},
	}
	return Happened(inc, ns, log, changes)
}

func TestHappenedReadsTheTimeline(t *testing.T) {
	o := outcomeOf(": rolled back v42", "looking at 500s", "it is v42, see https://ci.example.com/b/42")
	if o.AckedBy != "Alice" || o.TimeToAck != 7*time.Minute || o.TimeToSolve != time.Hour || o.Escalations != 1 || o.ResolvedBy != "Alice" {
		t.Errorf("timeline: %+v", o)
	}
	if o.Resolution != "rolled back v42" {
		t.Errorf("resolution %q, want the resolve entry's text", o.Resolution)
	}
	if len(o.Notes) != 2 || o.Notes[0] != "looking at 500s" {
		t.Errorf("notes %q: want the human notes after the trigger only", o.Notes)
	}
	if len(o.Culprits) != 1 || o.Culprits[0].ID != "01CHG42" || len(o.NamedChanges) != 1 {
		t.Errorf("culprits %v named %v, want v42 only (500 is not a version)", o.Culprits, o.NamedChanges)
	}
	if o.Category != nova.CategoryChange {
		t.Errorf("category %q, want change (rolled back)", o.Category)
	}
	if o := outcomeOf("", "disk full on db-3, cleaned up"); o.Resolution != "disk full on db-3, cleaned up" || o.Category != nova.CategoryResource {
		t.Errorf("without a resolve text the last note is the resolution: %+v", o)
	}
}

func hyp(cat nova.Category, changeIDs ...string) nova.TriageResult {
	h := nova.Hypothesis{Rank: 1, Summary: "x", Category: cat, Confidence: 0.8}
	for _, id := range changeIDs {
		h.Evidence = append(h.Evidence, nova.Evidence{Kind: nova.EvidenceChange, ID: id, Summary: id})
	}
	return nova.TriageResult{Hypotheses: []nova.Hypothesis{h}}
}

func TestJudgeDecidesOnlyWhenTheRecordDoes(t *testing.T) {
	cases := []struct {
		name       string
		res        nova.TriageResult
		resolution string
		notes      []string
		want       string
	}{
		{"culprit cited", hyp(nova.CategoryChange, "01CHG42"), ": rolled back v42", nil, VerdictRight},
		{"another change blamed", hyp(nova.CategoryChange, "01CHG41"), ": rolled back v42", nil, VerdictWrong},
		{"change named, resource blamed", hyp(nova.CategoryResource), ": reverted deploy checkout v42", nil, VerdictWrong},
		{"category words agree", hyp(nova.CategoryResource), ": disk full on db-3", nil, VerdictRight},
		{"category words disagree", hyp(nova.CategoryChange, "01CHG41"), ": certificate expired, renewed", nil, VerdictWrong},
		{"two categories", hyp(nova.CategoryChange), ": rolled back and cleared disk full", nil, VerdictUndecided},
		{"negated", hyp(nova.CategoryChange, "01CHG42"), ": not v42, it was upstream", nil, VerdictUndecided},
		{"nothing recorded", hyp(nova.CategoryChange, "01CHG42"), "", nil, VerdictUndecided},
		{"only a note names it", hyp(nova.CategoryChange, "01CHG41"), ": fixed", []string{"maybe v42?"}, VerdictUndecided},
		{"abstained", nova.TriageResult{Abstained: true}, ": rolled back v42", nil, VerdictAbstained},
	}
	for _, c := range cases {
		o := outcomeOf(c.resolution, c.notes...)
		if got, why := Judge(c.res, o); got != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, got, why, c.want)
		}
	}
}
