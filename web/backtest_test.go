package web

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/novasre/nova"
)

// fakeBacktests lets U0ALICE mark undecided rows and records the marks.
type fakeBacktests struct {
	mu    sync.Mutex
	rows  []BacktestRow
	marks []string
}

func (f *fakeBacktests) BacktestRows(_ context.Context, user string, svc nova.Service) ([]BacktestRow, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]BacktestRow(nil), f.rows...), user == "U0ALICE", nil
}

func (f *fakeBacktests) MarkBacktest(_ context.Context, user string, svc nova.Service, incidentID, mark string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if user != "U0ALICE" {
		return "", nova.Errorf(nova.EFORBIDDEN, "only Nova admins of prod can mark backtest rows")
	}
	for i := range f.rows {
		if f.rows[i].IncidentID == incidentID {
			f.rows[i].Mark, f.rows[i].MarkedBy = mark, user
		}
	}
	f.marks = append(f.marks, svc.ID+" "+incidentID+" "+mark+" by "+user)
	return "Recorded that Nova's backtest hypothesis for " + incidentID + " was " + mark + ".", nil
}

func TestBacktestPageMarksForAdminsOnly(t *testing.T) {
	rg := newRig(t, fixture("x"))
	bt := &fakeBacktests{rows: []BacktestRow{
		{IncidentID: "Q7", Number: 7, Title: "checkout down <script>alert(1)</script>", Hypothesis: "Deploy 981", Happened: "rolled back", Verdict: "undecided"},
		{IncidentID: "Q8", Number: 8, Title: "latency", Hypothesis: "Deploy 982", Happened: "reverted 982", Verdict: "right", Why: "the resolution names the change"},
	}}
	rg.pages.cfg.Backtests = bt
	page := rg.srv.URL + "/backtest/PCHECKOUT"

	alice := rg.browser()
	rg.signIn(alice, "U0ALICE")
	body := get(t, alice, page, 200)
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("row text is not escaped:\n%s", body)
	}
	if n := strings.Count(body, `name="incident" value="Q7"`); n != 3 {
		t.Errorf("undecided row has %d mark forms, want 3 (right, partly, wrong)", n)
	}
	if strings.Contains(body, `name="incident" value="Q8"`) {
		t.Error("a decided row offers marks")
	}
	token := csrfField.FindStringSubmatch(body)[1]

	// Without the form token nothing is marked, and the refusal is reported.
	if status, _ := post(t, alice, page, url.Values{"incident": {"Q7"}, "mark": {"wrong"}}); status != 403 {
		t.Errorf("mark without CSRF: %d, want 403", status)
	}
	status, body := post(t, alice, page, url.Values{"csrf": {token}, "incident": {"Q7"}, "mark": {"wrong"}})
	if status != 200 || !strings.Contains(body, "was wrong.") || !strings.Contains(body, "marked <strong class=\"mark\">wrong</strong> by @U0ALICE") {
		t.Fatalf("mark: %d\n%s", status, body)
	}

	mallory := rg.browser()
	rg.signIn(mallory, "U0MALLORY")
	body = get(t, mallory, page, 200)
	if strings.Contains(body, `name="incident"`) || !strings.Contains(body, "Only Nova admins of prod can mark rows") {
		t.Errorf("a non-admin is offered marks:\n%s", body)
	}
	mt := csrfField.FindStringSubmatch(body)[1]
	if status, body := post(t, mallory, page, url.Values{"csrf": {mt}, "incident": {"Q7"}, "mark": {"right"}}); status != 403 || !strings.Contains(body, "only Nova admins") {
		t.Errorf("non-admin mark: %d, want 403\n%s", status, body)
	}
	if status, _ := post(t, alice, rg.srv.URL+"/backtest/NOSUCH", url.Values{"csrf": {token}, "incident": {"Q7"}, "mark": {"right"}}); status != 404 {
		t.Errorf("mark on an undeclared service: %d, want 404", status)
	}
	if got := bt.marks; len(got) != 1 || got[0] != "PCHECKOUT Q7 wrong by U0ALICE" {
		t.Errorf("marks: %q", got)
	}
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if len(rg.refuse) != 1 || !strings.Contains(rg.refuse[0], "backtest mark by U0ALICE: no valid CSRF token") {
		t.Errorf("refusals reported: %q", rg.refuse)
	}
}
