package web

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/novasre/nova"
)

func TestAuditPageFiltersAndExports(t *testing.T) {
	data := fixture("x")
	data.audit = append(data.audit,
		nova.AuditEntry{Seq: 2, Time: fixtureTime, Incident: "Q1", Actor: "slack:U0ALICE", Action: "approval.approve", Outcome: nova.OutcomeOK, Detail: "apr-1 rollback: approved"},
		nova.AuditEntry{Seq: 3, Time: fixtureTime, Incident: "Q9", Actor: "slack:U0MALLORY", Action: "click.approve", Outcome: nova.OutcomeRefused, Detail: "=HYPERLINK(\"https://evil.example\")"})
	rg := newRig(t, data)
	c := rg.browser()
	rg.signIn(c, "U0ALICE")
	b := get(t, c, rg.srv.URL+"/audit", 200)
	if !strings.Contains(b, "Chain intact over the latest 3 entries") || !strings.Contains(b, "approval.approve") || !strings.Contains(b, "click.approve") {
		t.Fatalf("audit page:\n%s", b)
	}
	if b := get(t, c, rg.srv.URL+"/audit?action=approval.&incident=Q1", 200); !strings.Contains(b, "approval.approve") || strings.Contains(b, "click.approve") || strings.Contains(b, "note.hypothesis") {
		t.Errorf("filtered audit page:\n%s", b)
	}
	get(t, c, rg.srv.URL+"/audit?from=yesterday", 400)
	get(t, c, rg.srv.URL+"/audit?actor=<script>", 400)
	get(t, c, rg.srv.URL+"/audit?format=xml", 400)

	lines := strings.Split(strings.TrimSpace(get(t, c, rg.srv.URL+"/audit?actor=slack:U0ALICE&format=jsonl", 200)), "\n")
	var e nova.AuditEntry
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &e) != nil || e.Action != "approval.approve" {
		t.Errorf("JSON lines export: %q", lines)
	}
	rows, err := csv.NewReader(strings.NewReader(get(t, c, rg.srv.URL+"/audit?format=csv", 200))).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "seq" {
		t.Fatalf("CSV export: %v %q", err, rows)
	}
	if got := rows[1][8]; got != `'=HYPERLINK("https://evil.example")` {
		t.Errorf("a formula from outside text stays a formula in the CSV: %q", got)
	}
	get(t, noRedirect(rg.browser()), rg.srv.URL+"/audit?format=csv", 303)
}
