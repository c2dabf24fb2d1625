package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novasre/nova"
	"github.com/novasre/nova/bot/backtest"
	"github.com/novasre/nova/pagerduty/pdemu"
)

// liveTriage is what the API shows of Nova's live triage of an incident.
type liveTriage struct {
	TriageStatus string            `json:"triage_status"`
	Abstained    bool              `json:"abstained"`
	Hypotheses   []nova.Hypothesis `json:"hypotheses"`
}

// TestBacktestReplaysHistoryAsOfEachTrigger builds 50 incidents of a
// service in time order. Each is triggered live (Nova triages it from the
// webhook, with what PagerDuty holds at that moment); only then does what
// came later happen: acknowledgements, notes, a resolution naming the
// culprit, a hotfix change 30 s after the trigger (inside live triage's
// change window, and correlated with the incident by PagerDuty today), a
// postmortem note on an earlier incident blaming something else, and
// PagerDuty listing later incidents among the past ones. Any of these,
// leaked into the replay, changes the answer. The backtest must give each
// incident the hypotheses live triage gave it, cite nothing from after the
// trigger, and send PagerDuty nothing but GETs.
func TestBacktestReplaysHistoryAsOfEachTrigger(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	in := h.start()
	pd := h.pd
	alice := "PALICEPROD"
	const svc, n = "PPAYMENTS", 50
	base := time.Now().UTC().Add(-40 * 24 * time.Hour).Truncate(time.Minute)
	trig := func(k int) time.Time { return base.Add(time.Duration(k) * 12 * time.Hour) }
	ids := make([]string, n)
	later := map[string]bool{} // ids of changes made after a trigger
	live := map[string]liveTriage{}
	for k := 0; k < n; k++ {
		at := trig(k)
		var deploy string
		if k%2 == 0 {
			deploy = pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: svc, Summary: fmt.Sprintf("deploy payments v%d", 100+k),
				Source: "argo", Timestamp: at.Add(-20 * time.Minute)})
		}
		alerts := []pdemu.AlertSpec{{Summary: "payments 5xx rate above 5%", Source: "prometheus", Severity: "critical"}}
		title := "payments 5xx"
		if k%2 == 1 {
			title = "payments db disk almost full"
			alerts = []pdemu.AlertSpec{{Summary: "disk usage 97% on payments-db-1", Source: "prometheus",
				Details: map[string]any{"mountpoint": "/var/lib/postgresql"}}}
		}
		inc := pd.SeedIncident(pdemu.IncidentSpec{ServiceID: svc, Title: title, CreatedAt: at, Alerts: alerts})
		ids[k] = inc.ID
		if deploy != "" {
			pd.CorrelateChange(inc.ID, deploy, "most_recent")
		}
		if k >= 2 {
			pd.LinkPastIncident(inc.ID, ids[k-2], 60)
			// PagerDuty today also finds this incident similar to earlier ones.
			pd.LinkPastIncident(ids[k-2], inc.ID, 95)
		}
		pd.Trigger(inc.ID)
		h.eventually(20*time.Second, "live triage of incident "+inc.ID, func() bool {
			code, body := httpGet(t, in.url+"/api/v1/incidents/"+inc.ID, h.readKey)
			var lt liveTriage
			if code != http.StatusOK || json.Unmarshal([]byte(body), &lt) != nil || lt.TriageStatus != "done" {
				return false
			}
			live[inc.ID] = lt
			return true
		})
		// What happened after the trigger.
		hotfix := pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: svc, Summary: fmt.Sprintf("hotfix payments v%d.1 (config rollback)", 100+k),
			Source: "argo", Timestamp: at.Add(30 * time.Second)})
		later[hotfix] = true
		pd.CorrelateChange(inc.ID, hotfix, "most_recent")
		pd.AcknowledgeAt(inc.ID, alice, at.Add(4*time.Minute))
		pd.AddNoteAt(inc.ID, alice, "looking at it", at.Add(6*time.Minute))
		resolution := fmt.Sprintf("rolled back deploy payments v%d", 100+k)
		if k%2 == 1 {
			resolution = "disk full on payments-db-1, cleaned up WAL"
		}
		pd.ResolveAt(inc.ID, alice, resolution, at.Add(40*time.Minute))
		if k >= 2 {
			// Written after incident k (which lists k-2 as a past incident) triggered.
			pd.AddNoteAt(ids[k-2], alice, "postmortem: the real cause was an expired TLS certificate at the upstream provider", at.Add(time.Hour))
		}
	}
	h.settle()
	h.stop(in) // the bolt store is Nova's while it runs

	pd.ResetRequests()
	var out, errs bytes.Buffer
	args := []string{"backtest", "--config", h.cfgPath, "--service", "payments", "--since", "60d", "--format", "json"}
	if code := runMain(context.Background(), args, &out, &errs); code != exitOK {
		t.Fatalf("backtest exit %d\nstderr: %s\nstdout: %s", code, errs.String(), out.String())
	}
	var rep backtest.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if len(rep.Rows) != n || rep.Totals.Failed != 0 || rep.Partial {
		t.Fatalf("%d rows, %d failed, partial %v; want %d replayed", len(rep.Rows), rep.Totals.Failed, rep.Partial, n)
	}
	for _, row := range rep.Rows {
		want, ok := live[row.Incident.ID]
		if !ok || row.Result == nil {
			t.Fatalf("row %+v: no live triage or no replay", row.Incident)
		}
		if row.Result.Abstained != want.Abstained || !reflect.DeepEqual(normal(row.Result.Hypotheses), normal(want.Hypotheses)) {
			t.Errorf("incident %s: replay differs from live triage\nreplay: %s\nlive:   %s", row.Incident.ID,
				mustJSON(row.Result.Hypotheses), mustJSON(want.Hypotheses))
		}
		cut := row.Incident.TriggeredAt.Add(backtest.DefaultGrace)
		for _, hy := range row.Result.Hypotheses {
			for _, e := range hy.Evidence {
				if e.At.After(cut) || later[e.ID] {
					t.Errorf("incident %s cites %s %s (%s) from after its trigger", row.Incident.ID, e.Kind, e.ID, e.At)
				}
				if strings.Contains(e.Summary, "certificate") || strings.Contains(e.Summary, "hotfix") {
					t.Errorf("incident %s cites later text: %q", row.Incident.ID, e.Summary)
				}
			}
		}
		if len(row.Leaks) != 0 {
			t.Errorf("incident %s: report flags leaks %v", row.Incident.ID, row.Leaks)
		}
		if row.Outcome.AckedBy == "" || row.Outcome.TimeToAck != 4*time.Minute || row.Outcome.TimeToSolve != 40*time.Minute {
			t.Errorf("incident %s: what happened: %+v", row.Incident.ID, row.Outcome)
		}
	}
	if rep.Totals.Right+rep.Totals.Wrong == 0 {
		t.Errorf("no automatic verdict at all: %+v", rep.Totals)
	}
	t.Logf("totals %+v, %d PagerDuty requests", rep.Totals, rep.Calls)
	nonGET := 0
	for _, r := range pd.Requests() {
		if r.Method != http.MethodGet {
			nonGET++
			t.Errorf("the backtest sent %s %s", r.Method, r.Path)
		}
	}
	if nonGET != 0 || pd.RateLimited() != 0 {
		t.Errorf("%d non-GET requests, %d rate limited", nonGET, pd.RateLimited())
	}
	if u := pd.Unexpected(); len(u) != 0 {
		t.Errorf("the emulator saw requests it does not model: %+v", u)
	}

	// A rerun is answered from the cache: only the incident list is read.
	pd.ResetRequests()
	out.Reset()
	errs.Reset()
	if code := runMain(context.Background(), args, &out, &errs); code != exitOK {
		t.Fatalf("rerun exit %d: %s", code, errs.String())
	}
	var again backtest.Report
	if err := json.Unmarshal(out.Bytes(), &again); err != nil {
		t.Fatal(err)
	}
	if again.Cached != n || len(pd.Requests()) != 1 || !strings.Contains(errs.String(), fmt.Sprintf("%d/%d incidents", n, n)) {
		t.Errorf("rerun: %d cached, %d requests (want %d and 1); stderr:\n%s", again.Cached, len(pd.Requests()), n, errs.String())
	}
	h.checkHygiene()
}

// normal drops what may differ between two runs of the same triage: nothing
// today, but JSON round trips turn nil lists into empty ones.
func normal(hs []nova.Hypothesis) string { return mustJSON(hs) }

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestBacktestYieldsToLiveIncidents runs a backtest beside a live Nova on
// Redis (one shared rate limit per credential): a live incident triggered
// mid-run gets its note promptly, and PagerDuty never answers 429.
func TestBacktestYieldsToLiveIncidents(t *testing.T) {
	h := newHarness(t, harnessOptions{Backend: "redis"})
	pd := h.pd
	const n = 60
	base := time.Now().UTC().Add(-20 * 24 * time.Hour).Truncate(time.Minute)
	for k := 0; k < n; k++ {
		at := base.Add(time.Duration(k) * 6 * time.Hour)
		pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PPAYMENTS", Summary: fmt.Sprintf("deploy payments v%d", k),
			Timestamp: at.Add(-10 * time.Minute)})
		inc := pd.SeedIncident(pdemu.IncidentSpec{ServiceID: "PPAYMENTS", Title: "payments 5xx", CreatedAt: at})
		pd.ResolveAt(inc.ID, "PALICEPROD", fmt.Sprintf("rolled back v%d", k), at.Add(30*time.Minute))
	}
	h.start()
	var out bytes.Buffer
	errs := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- runMain(context.Background(), []string{"backtest", "--config", h.cfgPath, "--service", "PPAYMENTS",
			"--since", "30d", "--format", "json"}, &out, errs)
	}()
	h.eventually(60*time.Second, "the backtest to be under way", func() bool { return strings.Contains(errs.String(), " 5/60 incidents") })
	start := time.Now()
	live := h.trigger("PCHECKOUT", "checkout 5xx")
	h.eventually(60*time.Second, "the live incident's note", func() bool { return len(h.novaNotes(live)) > 0 })
	took := time.Since(start)
	var code int
	select {
	case code = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("the backtest did not finish within 3 minutes")
	}
	if code != exitOK {
		t.Fatalf("backtest exit %d: %s", code, errs.String())
	}
	var rep backtest.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Rows) != n || rep.Totals.Failed != 0 {
		t.Fatalf("report: %v, %d rows, %+v", err, len(rep.Rows), rep.Totals)
	}
	if !strings.Contains(errs.String(), fmt.Sprintf("%d/%d incidents", n, n)) {
		t.Errorf("progress never reached the end:\n%s", errs.String())
	}
	t.Logf("live note %s after the trigger, mid-backtest (%d PagerDuty requests in %s)", took.Round(time.Millisecond), rep.Calls, rep.Elapsed.Round(time.Second))
	if took > 10*time.Second {
		t.Errorf("the live incident waited %s for its note behind the backtest", took)
	}
	if pd.RateLimited() != 0 {
		t.Errorf("PagerDuty answered 429 %d times", pd.RateLimited())
	}
	for _, r := range pd.Requests() {
		if r.Method != http.MethodGet && r.Path != "/incidents/"+live+"/notes" && r.Path != "/incidents/"+live {
			t.Errorf("unexpected write %s %s", r.Method, r.Path)
		}
	}
	h.checkHygiene()
}

// TestSlashBacktestPostsTheSummary: an admin starts a backtest from Slack;
// a non-admin cannot; the summary lands in the channel, and PagerDuty sees
// nothing but GETs.
func TestSlashBacktestPostsTheSummary(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pd := h.pd
	base := time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Minute)
	for k := 0; k < 6; k++ {
		at := base.Add(time.Duration(k) * 24 * time.Hour)
		pd.AddChangeEvent(pdemu.ChangeEventSpec{ServiceID: "PPAYMENTS", Summary: fmt.Sprintf("deploy payments v%d", 200+k),
			Timestamp: at.Add(-10 * time.Minute)})
		inc := pd.SeedIncident(pdemu.IncidentSpec{ServiceID: "PPAYMENTS", Title: "payments 5xx", CreatedAt: at})
		pd.ResolveAt(inc.ID, "PALICEPROD", fmt.Sprintf("rolled back v%d", 200+k), at.Add(30*time.Minute))
	}
	in := h.start()
	const ch = "C0PAYMENTS"
	if r := h.slash(in, "prod", "U0MALLORY", ch, "backtest payments"); !strings.Contains(r, "only Nova admins") {
		t.Fatalf("a non-admin started a backtest: %s", r)
	}
	h.slash(in, "prod", "U0ALICE", ch, "disable payments")
	if r := h.slash(in, "prod", "U0ALICE", ch, "enable payments"); !strings.Contains(r, "/nova backtest PPAYMENTS") {
		t.Errorf("enable does not suggest a backtest: %s", r)
	}
	pd.ResetRequests()
	if r := h.slash(in, "prod", "U0ALICE", ch, "backtest payments"); !strings.Contains(r, "started a backtest of") {
		t.Fatalf("backtest not started: %s", r)
	}
	var summary string
	h.eventually(60*time.Second, "the backtest summary in the channel", func() bool {
		for _, m := range h.messages(ch) {
			if strings.Contains(m.Text, "Backtest of payments") {
				summary = m.Text
				return true
			}
		}
		return false
	})
	for _, want := range []string{"6 resolved incidents", "automatic verdicts:", "nova backtest --service PPAYMENTS"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	for _, r := range pd.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("the backtest sent %s %s", r.Method, r.Path)
		}
	}
	// The run is over: another may start, and is answered from the cache.
	pd.ResetRequests()
	h.eventually(10*time.Second, "the run's lock to be released", func() bool {
		return strings.Contains(h.slash(in, "prod", "U0ALICE", ch, "backtest payments"), "started a backtest of")
	})
	h.eventually(30*time.Second, "the second summary", func() bool {
		n := 0
		for _, m := range h.messages(ch) {
			if strings.Contains(m.Text, "Backtest of payments") {
				n++
			}
		}
		return n == 2
	})
	if got := len(pd.Requests()); got != 1 {
		t.Errorf("the rerun made %d PagerDuty requests, want 1 (the incident list)", got)
	}
}
