package backtest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
)

func TestMarkdownEscapesPagerDutyText(t *testing.T) {
	res := hyp(nova.CategoryChange, "01CHG42")
	res.Elapsed = 2 * time.Second
	rep := Report{Service: "PSVC", Environment: "prod", Since: t0, Until: at(time.Hour), Limit: 200,
		Rows: []Row{{
			Incident: IncidentRef{ID: "Q1", Number: 7, Title: "evil | title\n[click](https://evil.example)", TriggeredAt: t0},
			Result:   &res,
			Outcome:  Outcome{Resolution: "rolled back <b>v42</b> | done", AckedBy: "Alice", TimeToAck: 5 * time.Minute, TimeToSolve: time.Hour},
			Verdict:  VerdictRight, Why: "the resolution names the change Nova blamed (deploy v42)",
		}}}
	rep.Totals = totals(rep.Rows)
	var b bytes.Buffer
	if err := rep.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| #7 ") {
			row = l
		}
	}
	if row == "" {
		t.Fatalf("no row for the incident:\n%s", out)
	}
	if strings.Count(row, " | ") != 4 || strings.Contains(strings.ReplaceAll(row, `\](`, ""), "](") || strings.Contains(row, "<b>") {
		t.Errorf("outside text breaks the table or adds markup: %s", row)
	}
	if rep.Totals.Right != 1 || rep.Totals.MedianLead != 5*time.Minute-2*time.Second || len(rep.Totals.TopChanges) != 1 {
		t.Errorf("totals %+v", rep.Totals)
	}
	for _, want := range []string{"1 of 1 decided rows right", "4m58s before the first person acknowledged", "01CHG42"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestMarkdownLinksThePageForUndecidedRows(t *testing.T) {
	rep := Report{Service: "PPAY", Environment: "prod", PageURL: "https://nova.example.com/backtest/PPAY",
		Rows: []Row{{Incident: IncidentRef{ID: "Q1"}, Verdict: VerdictUndecided,
			Result: &nova.TriageResult{Hypotheses: []nova.Hypothesis{{Rank: 1, Summary: "deploy", Category: nova.CategoryChange, Confidence: 0.7}}}}}}
	rep.Totals = totals(rep.Rows)
	var b strings.Builder
	if err := rep.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "mark the undecided rows right, partly or wrong at https://nova.example.com/backtest/PPAY") {
		t.Errorf("no link to the page:\n%s", b.String())
	}
	rep.PageURL = ""
	b.Reset()
	_ = rep.WriteMarkdown(&b)
	if strings.Contains(b.String(), "/backtest/") {
		t.Errorf("a page is linked without one:\n%s", b.String())
	}
}
