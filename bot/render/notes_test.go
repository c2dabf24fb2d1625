package render

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/novasre/nova"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot/render -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

var trigger = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func sampleRecord() nova.IncidentRecord {
	return nova.IncidentRecord{
		ID: "Q1ABC", ServiceID: "PCHECKOUT", Title: "checkout-api: 5xx error rate above 5%", Number: 42,
		TriggeredAt: trigger, HTMLURL: "https://acme.pagerduty.com/incidents/Q1ABC",
		Triage: &nova.TriageResult{
			Hypotheses: []nova.Hypothesis{
				{Rank: 1, Category: nova.CategoryChange, Confidence: 0.72,
					Summary: "Likely caused by deploy 'checkout v2.3.1' 12 min before the incident (same service)",
					Evidence: []nova.Evidence{
						{Kind: "change", ID: "C1", Summary: "Deploy checkout v2.3.1", URL: "https://ci.example.com/deploys/981", At: trigger.Add(-12 * time.Minute)},
						{Kind: "alert", ID: "A1", Summary: "HTTP 5xx error rate 7.2% on checkout-api", URL: "https://acme.pagerduty.com/alerts/A1", At: trigger},
						{Kind: "past_incident", ID: "Q0OLD", Summary: "Same symptoms on 2026-11-08, fixed by a rollback", URL: "https://acme.pagerduty.com/incidents/Q0OLD", At: trigger.Add(-20 * 24 * time.Hour)},
					},
					Suggestions: []nova.Suggestion{
						{ID: "s1", Title: "Roll back checkout to the previous release", Action: "rollback-checkout", Destructive: true},
						{ID: "s2", Title: "Checkout 5xx runbook", RunbookURL: "https://wiki.example.com/runbooks/checkout-5xx"},
					}},
				{Rank: 2, Category: nova.CategoryDependency, Confidence: 0.31, Summary: "Payments API timeouts"},
			},
			Checked:    []string{"alerts", "past_incidents", "related_changes", "service_changes"},
			NotChecked: []string{"outlier (not available on this account)"},
			Elapsed:    3200 * time.Millisecond,
		},
	}
}

func TestHypothesisNoteGolden(t *testing.T) {
	golden(t, "hypothesis_note", HypothesisNote(sampleRecord(), "https://nova.example.com", "nova-01JDEF0000000000000000000A"))
}

func TestAbstainNoteGolden(t *testing.T) {
	rec := sampleRecord()
	rec.Triage.Abstained = true
	rec.Triage.Hypotheses = rec.Triage.Hypotheses[1:]
	got := HypothesisNote(rec, "", "nova-01JDEF0000000000000000000B")
	if !strings.HasPrefix(got, "Nova has no confident hypothesis") {
		t.Errorf("an abstention must say so first:\n%s", got)
	}
	golden(t, "abstain_note", got)
}

func TestStatusNoteGolden(t *testing.T) {
	golden(t, "status_note", StatusNote(StatusReport{
		What: "catalog action rollback-checkout (Roll back checkout to the previous release) succeeded", Target: "service checkout (PCHECKOUT), environment prod",
		Why: "Likely caused by deploy 'checkout v2.3.1' (change, confidence 72%)", ApprovedBy: []string{"U0ALICE", "U0BOB"},
		Outcome: "succeeded: HTTP 200 after 1 attempt(s)",
	}, "nova-01JDEF0000000000000000000C"))
}

// A huge note is cut, but never its audit id: that is how PagerDuty's
// timeline and Nova's audit log find each other.
func TestLongNotesKeepTheirAuditID(t *testing.T) {
	rec := sampleRecord()
	rec.Triage.Hypotheses[0].Summary = strings.Repeat("ünïcode ", 2000)
	got := HypothesisNote(rec, "", "nova-01JDEF0000000000000000000D")
	if n := utf8.RuneCountInString(got); n > maxNoteChars {
		t.Errorf("note has %d characters, limit %d", n, maxNoteChars)
	}
	if !strings.HasSuffix(got, "audit nova-01JDEF0000000000000000000D") || !utf8.ValidString(got) {
		t.Errorf("note lost its audit id or was cut mid-rune: …%s", got[len(got)-80:])
	}
}
